/*
 * versions.c: the table of what each CPython minor version changed for the decoders
 * (internal.h, struct wk_versions). Every line names the CPython change it follows; a new
 * version is a new line here when it changes one of these, plus what symbols/NEW_VERSION.md
 * lists (layout tables, per-version C layouts).
 */
#include "lib/walk/internal.h"

void wk_versions_init(struct wk_versions *v, int minor)
{
    *v = (struct wk_versions){
        /* 3.11: _PyInterpreterFrame (PEP 659's frame redesign); frame objects on demand. */
        .frame_objects = minor <= 10,
        /* 3.11: Objects/longobject.c allocates one digit for 0 (sys.getsizeof(0) grew). */
        .int_one_digit_min = minor >= 11,
        /* 3.11: co_code_adaptive, the quickened bytecode, inside the code object. */
        .code_units_inline = minor >= 11,
        /* 3.12: frames save their stack pointer when they call (gh-96143 and after). */
        .thread_stack_saved = minor >= 12,
        /* 3.13: static builtin types keep their dicts in the interpreter, no pre-header. */
        .static_type_no_presize = minor >= 13,
        /* 3.14: _PyStackRef with tag bits (PEP 703 groundwork, also in default builds). */
        .stackref_tags = minor >= 14,
        /* 3.15: enum _framestate renumbered from 0 (FRAME_CREATED). */
        .frame_state_from_zero = minor >= 15,
        /* 3.11 managed dicts, 3.12 tagged values pointer, 3.13 inline values. */
        .managed = minor <= 10 ? WK_MANAGED_NONE
                   : minor == 11 ? WK_MANAGED_DICT_OR_VALUES
                   : minor == 12 ? WK_MANAGED_TAGGED
                                 : WK_MANAGED_INLINE,
        /* 3.12: Py_TPFLAGS_MANAGED_WEAKREF. */
        .managed_weakref = minor >= 12,
    };
}
