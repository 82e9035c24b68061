/* See sockaddr.h. */
#include "sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

bool sockaddr_parse(const char *s, const char *default_host, bool allow_zero,
                    struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    bool bracket = s[0] == '[';
    const char *colon = bracket ? strstr(s, "]:") : strrchr(s, ':');
    if (!colon)
        return false;
    size_t hl = bracket ? (size_t)(colon - s - 1) : (size_t)(colon - s);
    if (hl >= sizeof host)
        return false;
    memcpy(host, bracket ? s + 1 : s, hl);
    host[hl] = '\0';
    if (!hl) {
        if (!default_host || strlen(default_host) >= sizeof host)
            return false;
        strcpy(host, default_host);
    }
    const char *port = colon + (bracket ? 2 : 1);
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    if (!*port || *port == '-' || *end || p > 65535 || (!p && !allow_zero))
        return false;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (!bracket && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *len = sizeof *a4;
        return true;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *len = sizeof *a6;
        return true;
    }
    return false;
}

bool sockaddr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return ss->ss_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}
