/*
 * label.c: see label.h.
 */
#include "lib/heap/label.h"

#include <inttypes.h>
#include <stdio.h>

char *ph_label_render(const struct ph_graph *g, uint32_t label, const char *prefix, char *buf,
                      size_t cap)
{
    uint32_t p = PH_LABEL_PAYLOAD(label);
    const char *s = ph_strtab_get(&g->names, p);
    switch (PH_LABEL_KIND(label)) {
    case PH_EDGE_FIELD:
    case PH_EDGE_ATTR: snprintf(buf, cap, "%s.%s", prefix, s); break;
    case PH_EDGE_DICT_VALUE: snprintf(buf, cap, "%s[%s]", prefix, s); break;
    case PH_EDGE_DICT_KEY: snprintf(buf, cap, "%s.keys()[%" PRIu32 "]", prefix, p); break;
    case PH_EDGE_INDEX: snprintf(buf, cap, "%s[%" PRIu32 "]", prefix, p); break;
    case PH_EDGE_SET_MEMBER: snprintf(buf, cap, "list(%s)[%" PRIu32 "]", *prefix ? prefix : "_", p); break;
    case PH_EDGE_LOCAL: snprintf(buf, cap, "%s.f_locals['%s']", prefix, s); break;
    case PH_EDGE_INTERNAL: snprintf(buf, cap, "%s->%s", prefix, s); break;
    case PH_EDGE_STACK: snprintf(buf, cap, "%s->f_valuestack[%" PRIu32 "]", prefix, p); break;
    case PH_EDGE_CONSERVATIVE:
    default: snprintf(buf, cap, "%s.??", prefix); break;
    }
    return buf;
}

char *ph_object_brief(const struct ph_graph *g, uint32_t obj, char *buf, size_t cap)
{
    const char *kind = ph_strtab_get(&g->names, g->types[g->type[obj]].name);
    uint32_t brief = ph_addrmap_get(&g->brief, (uint64_t)obj + 1);
    if (brief != PH_ADDRMAP_NONE)
        snprintf(buf, cap, "%s %s", kind, ph_strtab_get(&g->names, brief));
    else
        snprintf(buf, cap, "%s 0x%" PRIx64, kind, g->addr[obj]);
    return buf;
}
