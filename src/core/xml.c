/* XML text escaping (see xml.h). */
#include "core/json.h"
#include "core/xml.h"

void es_xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        int n = es_utf8_sequence(s);
        if ((unsigned char)*s >= 0x80 && n > 1) {
            fwrite(s, 1, (size_t)n, f);
            s += n - 1;
        } else if (!n || (unsigned char)*s < 0x20) fputc('?', f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else if (*s == '\'') fputs("&apos;", f);
        else fputc(*s, f);
    }
}
