/* gba_err.c - text for the error table in gba_err.h. */
#include "config.h"

#include "gba_err.h"

const char *gba_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define GBA_ERR_TEXT(name, value, text) \
	case name:                      \
		return text;
		GBA_ERRORS(GBA_ERR_TEXT)
#undef GBA_ERR_TEXT
	default:
		return "unknown error";
	}
}

const char *gba_errname(int err)
{
	switch (err) {
	case 0:
		return "OK";
#define GBA_ERR_NAME(name, value, text) \
	case name:                      \
		return #name;
		GBA_ERRORS(GBA_ERR_NAME)
#undef GBA_ERR_NAME
	default:
		return "GBA_EUNKNOWN";
	}
}
