/* layout_sources.c: placeholder until the source chain lands; every build reports no layout. */
#include "symbols/layout_sources.h"

ph_status py_layout_resolve(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                            struct py_target *out, struct ph_error *err)
{
    (void)ctx;
    (void)opts;
    (void)out;
    return ph_fail(err, PH_ERR_NO_LAYOUT, "layout sources not implemented yet");
}
