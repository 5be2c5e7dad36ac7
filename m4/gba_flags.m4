# gba_flags.m4 - probe compiler and linker flags one at a time.
#
# GBA_PROBE_CFLAG(FLAG, VARIABLE)
#   Append FLAG to VARIABLE when the C compiler accepts it with -Werror.
# GBA_PROBE_LDFLAG(FLAG, VARIABLE)
#   Append FLAG to VARIABLE when a trivial program links with it.

AC_DEFUN([GBA_PROBE_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  gba_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $2="$$2 $1"],
    [AC_MSG_RESULT([no])])
  CFLAGS=$gba_save_CFLAGS
])

AC_DEFUN([GBA_PROBE_LDFLAG], [
  AC_MSG_CHECKING([whether the linker accepts $1])
  gba_save_LDFLAGS=$LDFLAGS
  LDFLAGS="$LDFLAGS $1"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $2="$$2 $1"],
    [AC_MSG_RESULT([no])])
  LDFLAGS=$gba_save_LDFLAGS
])
