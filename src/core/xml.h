/* Text for the SVG writers (timeline, piano roll). */
#ifndef ES_XML_H
#define ES_XML_H

#include <stdio.h>

/* Writes s as XML character data: the special characters escaped, valid UTF-8 kept, control
 * characters and bytes that are not UTF-8 (XML forbids both; names may come from any file)
 * written as '?'. */
void es_xml_text(FILE *f, const char *s);

#endif
