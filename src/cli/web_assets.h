/* The web page of `emsync serve`, built into the binary from web/ (scripts/embed-web.sh). */
#ifndef ES_CLI_WEB_ASSETS_H
#define ES_CLI_WEB_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *name;            /* file name: "index.html", "app.css", "app.js" */
    const unsigned char *data;
    size_t size;
} es_web_asset;

/* Ends with an entry whose name is NULL. */
extern const es_web_asset es_web_assets[];

#endif
