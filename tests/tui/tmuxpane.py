"""A program run in a tmux pane of a private tmux server (its own socket, so that tests
running side by side never share one): keys sent with send-keys, the screen read with
capture-pane, every wait a poll."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import poll  # noqa: E402


class Pane:
    def __init__(self, cmd, cwd, env=None, x=100, y=30):
        self.sock = 'sipscope-tui-%d-%d' % (os.getpid(), id(self))
        # the command's exit status is printed once it returns, and the pane stays open
        shell = '%s; echo EXIT=$?; sleep 60' % cmd
        e = dict(os.environ, TZ='UTC', LANG='C.UTF-8', LC_ALL='C.UTF-8', TERM='xterm-256color')
        e.pop('NO_COLOR', None)
        e.update(env or {})
        self.tmux('-u', 'new-session', '-d', '-x', str(x), '-y', str(y), '-c', cwd, shell, env=e)

    def tmux(self, *args, env=None):
        return subprocess.run(['tmux', '-L', self.sock] + list(args), capture_output=True,
                              text=True, env=env, check=False).stdout

    def keys(self, *keys):
        self.tmux('send-keys', *keys)

    def type(self, text):
        self.tmux('send-keys', '-l', text)

    def screen(self, escapes=False):
        lines = self.tmux('capture-pane', '-p', *(['-e'] if escapes else [])).split('\n')
        return lines[:-1] if lines and lines[-1] == '' else lines

    def wait(self, cond, deadline=20):
        """The screen once cond(lines) holds (None when it never did)."""
        got = [None]

        def ok():
            s = self.screen()
            try:
                held = cond(s)
            except IndexError:  # the pane not drawn yet
                held = False
            if held:
                got[0] = s
                return True
            return False
        poll(ok, deadline=deadline, every=0.05)
        return got[0]

    def wait_text(self, text, deadline=20):
        return self.wait(lambda s: any(text in line for line in s), deadline)

    def title(self):
        return self.tmux('display', '-p', '#{pane_title}').strip()

    def pid(self):
        return int(self.tmux('display', '-p', '#{pane_pid}').strip() or 0)

    def close(self):
        self.tmux('kill-server')
