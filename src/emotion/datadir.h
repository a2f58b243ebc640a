/* Where emsync's installed data (face models, ...) lives. Looked up in this order:
 * $EMSYNC_DATA, $XDG_DATA_HOME/emsync, ~/.local/share/emsync, the running executable's
 * <bin>/../share/emsync (its own install, whatever the PREFIX), /usr/local/share/emsync,
 * /usr/share/emsync. */
#ifndef ES_DATADIR_H
#define ES_DATADIR_H

/* Returns a newly allocated "<root>/<sub>" for the first root in the lookup order where
 * "<root>/<sub>/<probe>" exists (probe may be NULL to test only the directory), or NULL with an
 * error listing what was tried. The caller frees the result. */
char *es_datadir_find(const char *sub, const char *probe);

#endif
