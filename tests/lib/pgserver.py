"""A real PostgreSQL server for the tests of the PostgreSQL store (issue 25): initdb in a
temporary folder as the `postgres` user, the server listening on a unix socket in that
folder only (no TCP: listen_addresses is empty, so no address is ever bound), stopped at
the end. Debian's `postgresql` package (scripts/install-deps.sh) puts the binaries in
/usr/lib/postgresql/15/bin.

    with PgServer() as pg:          # raises Missing when the binaries are absent
        uri = pg.uri('probe')       # postgresql:///probe?host=<socket dir>, created
        pg.sql('probe', 'SELECT 1') # psql's unaligned rows
        pg.restart()                # a fast shutdown and a start on the same folder
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time


class Missing(Exception):
    pass


def bindir():
    """The newest PostgreSQL server binaries here, or None."""
    for d in sorted(glob.glob('/usr/lib/postgresql/*/bin'), reverse=True):
        if os.access(os.path.join(d, 'postgres'), os.X_OK) and os.access(os.path.join(d, 'initdb'), os.X_OK):
            return d
    return None


def as_postgres(args):
    """A command run as the postgres user when the test runs as root."""
    return ['runuser', '-u', 'postgres', '--'] + args if os.getuid() == 0 else args


class PgServer:
    def __init__(self):
        self.bin = bindir()
        if not self.bin:
            raise Missing('PostgreSQL server binaries (/usr/lib/postgresql/*/bin) absent:'
                          ' scripts/install-deps.sh installs them')
        try:
            self.user = pwd.getpwnam('postgres')
        except KeyError:
            raise Missing('no postgres user (Debian\'s postgresql package makes it)')
        self.tmp = tempfile.mkdtemp(prefix='sipscope-pg-')
        os.chmod(self.tmp, 0o755)
        self.data = os.path.join(self.tmp, 'data')
        self.sock = os.path.join(self.tmp, 'sock')
        for d in (self.data, self.sock):
            os.mkdir(d, 0o700)
            os.chown(d, self.user.pw_uid, self.user.pw_gid)
        self.log = os.path.join(self.sock, 'server.log')  # postgres writes it

    def _as_postgres(self, args, **kw):
        """Runs a server program as postgres (a root test may not run the server as root)."""
        return subprocess.run(as_postgres(args), capture_output=True, text=True, **kw)

    def __enter__(self):
        r = self._as_postgres([os.path.join(self.bin, 'initdb'), '-D', self.data, '-U', 'postgres',
                               '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'])
        if r.returncode:
            self.cleanup()
            raise RuntimeError('initdb: ' + r.stderr)
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            # a unix socket in our folder only, and a small server: tests run side by side
            f.write("listen_addresses = ''\nunix_socket_directories = '%s'\n"
                    "shared_buffers = 32MB\nmax_connections = 40\nfsync = on\n" % self.sock)
        self.start()
        return self

    def __exit__(self, *exc):
        # immediate: the folder is thrown away, so no shutdown checkpoint is worth its
        # time (a fast stop took 30 s on a loaded host)
        self.stop('immediate')
        self.cleanup()

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self):
        r = self._as_postgres([os.path.join(self.bin, 'pg_ctl'), '-D', self.data, '-l', self.log,
                               '-w', '-t', '30', 'start'])
        if r.returncode:
            raise RuntimeError('pg_ctl start: %s %s' % (r.stderr, open(self.log).read()[-2000:]))

    def stop(self, mode='fast'):
        self._as_postgres([os.path.join(self.bin, 'pg_ctl'), '-D', self.data, '-m', mode, '-w',
                           '-t', '30', 'stop'])

    def restart(self):
        self.stop()
        self.start()

    def createdb(self, name):
        r = self._as_postgres([os.path.join(self.bin, 'createdb'), '-h', self.sock, '-U', 'postgres', name])
        if r.returncode:
            raise RuntimeError('createdb: ' + r.stderr)

    def uri(self, name):
        """A new database `name` and the libpq URI of it (the socket folder as host)."""
        self.createdb(name)
        return 'postgresql:///%s?host=%s&user=postgres' % (name, self.sock)

    def _psql(self, name):
        return [os.path.join(self.bin, 'psql'), '-h', self.sock, '-U', 'postgres', '-d', name, '-At']

    def sql(self, name, query):
        """Rows of a query through psql, as lists of strings ('|' separated)."""
        r = self._as_postgres(self._psql(name) + ['-c', query], timeout=60)
        if r.returncode:
            raise RuntimeError('psql: ' + r.stderr)
        return [line.split('|') for line in r.stdout.splitlines()]

    def session(self, name):
        """psql kept open on database `name`, as postgres: SQL written to its stdin, rows
        read from its stdout (unaligned, no command tags): a client whose transaction the
        test holds open."""
        return subprocess.Popen(as_postgres(self._psql(name) + ['-q']), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)


def wait_gone(pid, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
