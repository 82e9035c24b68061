/* The UI's files, embedded at build time by web/embed.py (web/ui/ is the source). */
#ifndef SIPSCOPE_WEB_ASSETS_H
#define SIPSCOPE_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *name;  /* the file name: served at /ui/NAME (index.html also at /) */
    const char *type;  /* Content-Type */
    const unsigned char *data;
    size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_nassets;

/* The asset of that exact name, or NULL: names are compared whole, never resolved as
 * paths, so no request reaches a file outside the table. */
const struct web_asset *web_asset_find(const char *name);

#endif
