/* validate.c — JSON Schema validation (Draft 2020-12 keywords as Nova uses
 * them) with Nova's 400 messages.
 *
 * Behaviour follows Nova's validator (python-jsonschema Draft202012Validator
 * plus Nova's format checkers and its string-number minimum/maximum), so the
 * texts are python-jsonschema's and the values are rendered as Python would
 * print them (repr for the reason, str for "Value: ").
 *
 * Keywords are checked in one fixed order (type, enum, const, format, pattern,
 * lengths, numbers, arrays, objects, combinators): Python checks them in the
 * schema's source order, which schemas.json (keys sorted) no longer carries;
 * the fixed order is the one Nova's schema sources use, so the first error
 * reported is the one Nova reports.
 *
 * Regular expressions (pattern, patternProperties, format "regex") use a
 * small backtracking engine over code points with Python `re` syntax and
 * re.search semantics; compiled patterns are cached by pattern text. */
#include "validate.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* growable string                                                      */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return; /* out of memory: the text is cut */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) {
    sb_putn(b, s, strlen(s));
}
static void sb_putc(struct sbuf *b, char c) {
    sb_putn(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sb_putn(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_putn(b, big, (size_t)n);
    free(big);
}

static const char *sb_str(const struct sbuf *b) {
    return b->p ? b->p : "";
}

/* ------------------------------------------------------------------ */
/* Unicode                                                              */

/* generated from Unicode 14.0.0 (Python unicodedata): code point ranges of the
 * general categories C* (Cc Cf Cs Co Cn) and Zs. */
static const uint32_t uc_other[][2] = {
    {0x0, 0x1F},         {0x7F, 0x9F},       {0xAD, 0xAD},       {0x378, 0x379},
    {0x380, 0x383},      {0x38B, 0x38B},     {0x38D, 0x38D},     {0x3A2, 0x3A2},
    {0x530, 0x530},      {0x557, 0x558},     {0x58B, 0x58C},     {0x590, 0x590},
    {0x5C8, 0x5CF},      {0x5EB, 0x5EE},     {0x5F5, 0x605},     {0x61C, 0x61C},
    {0x6DD, 0x6DD},      {0x70E, 0x70F},     {0x74B, 0x74C},     {0x7B2, 0x7BF},
    {0x7FB, 0x7FC},      {0x82E, 0x82F},     {0x83F, 0x83F},     {0x85C, 0x85D},
    {0x85F, 0x85F},      {0x86B, 0x86F},     {0x88F, 0x897},     {0x8E2, 0x8E2},
    {0x984, 0x984},      {0x98D, 0x98E},     {0x991, 0x992},     {0x9A9, 0x9A9},
    {0x9B1, 0x9B1},      {0x9B3, 0x9B5},     {0x9BA, 0x9BB},     {0x9C5, 0x9C6},
    {0x9C9, 0x9CA},      {0x9CF, 0x9D6},     {0x9D8, 0x9DB},     {0x9DE, 0x9DE},
    {0x9E4, 0x9E5},      {0x9FF, 0xA00},     {0xA04, 0xA04},     {0xA0B, 0xA0E},
    {0xA11, 0xA12},      {0xA29, 0xA29},     {0xA31, 0xA31},     {0xA34, 0xA34},
    {0xA37, 0xA37},      {0xA3A, 0xA3B},     {0xA3D, 0xA3D},     {0xA43, 0xA46},
    {0xA49, 0xA4A},      {0xA4E, 0xA50},     {0xA52, 0xA58},     {0xA5D, 0xA5D},
    {0xA5F, 0xA65},      {0xA77, 0xA80},     {0xA84, 0xA84},     {0xA8E, 0xA8E},
    {0xA92, 0xA92},      {0xAA9, 0xAA9},     {0xAB1, 0xAB1},     {0xAB4, 0xAB4},
    {0xABA, 0xABB},      {0xAC6, 0xAC6},     {0xACA, 0xACA},     {0xACE, 0xACF},
    {0xAD1, 0xADF},      {0xAE4, 0xAE5},     {0xAF2, 0xAF8},     {0xB00, 0xB00},
    {0xB04, 0xB04},      {0xB0D, 0xB0E},     {0xB11, 0xB12},     {0xB29, 0xB29},
    {0xB31, 0xB31},      {0xB34, 0xB34},     {0xB3A, 0xB3B},     {0xB45, 0xB46},
    {0xB49, 0xB4A},      {0xB4E, 0xB54},     {0xB58, 0xB5B},     {0xB5E, 0xB5E},
    {0xB64, 0xB65},      {0xB78, 0xB81},     {0xB84, 0xB84},     {0xB8B, 0xB8D},
    {0xB91, 0xB91},      {0xB96, 0xB98},     {0xB9B, 0xB9B},     {0xB9D, 0xB9D},
    {0xBA0, 0xBA2},      {0xBA5, 0xBA7},     {0xBAB, 0xBAD},     {0xBBA, 0xBBD},
    {0xBC3, 0xBC5},      {0xBC9, 0xBC9},     {0xBCE, 0xBCF},     {0xBD1, 0xBD6},
    {0xBD8, 0xBE5},      {0xBFB, 0xBFF},     {0xC0D, 0xC0D},     {0xC11, 0xC11},
    {0xC29, 0xC29},      {0xC3A, 0xC3B},     {0xC45, 0xC45},     {0xC49, 0xC49},
    {0xC4E, 0xC54},      {0xC57, 0xC57},     {0xC5B, 0xC5C},     {0xC5E, 0xC5F},
    {0xC64, 0xC65},      {0xC70, 0xC76},     {0xC8D, 0xC8D},     {0xC91, 0xC91},
    {0xCA9, 0xCA9},      {0xCB4, 0xCB4},     {0xCBA, 0xCBB},     {0xCC5, 0xCC5},
    {0xCC9, 0xCC9},      {0xCCE, 0xCD4},     {0xCD7, 0xCDC},     {0xCDF, 0xCDF},
    {0xCE4, 0xCE5},      {0xCF0, 0xCF0},     {0xCF3, 0xCFF},     {0xD0D, 0xD0D},
    {0xD11, 0xD11},      {0xD45, 0xD45},     {0xD49, 0xD49},     {0xD50, 0xD53},
    {0xD64, 0xD65},      {0xD80, 0xD80},     {0xD84, 0xD84},     {0xD97, 0xD99},
    {0xDB2, 0xDB2},      {0xDBC, 0xDBC},     {0xDBE, 0xDBF},     {0xDC7, 0xDC9},
    {0xDCB, 0xDCE},      {0xDD5, 0xDD5},     {0xDD7, 0xDD7},     {0xDE0, 0xDE5},
    {0xDF0, 0xDF1},      {0xDF5, 0xE00},     {0xE3B, 0xE3E},     {0xE5C, 0xE80},
    {0xE83, 0xE83},      {0xE85, 0xE85},     {0xE8B, 0xE8B},     {0xEA4, 0xEA4},
    {0xEA6, 0xEA6},      {0xEBE, 0xEBF},     {0xEC5, 0xEC5},     {0xEC7, 0xEC7},
    {0xECE, 0xECF},      {0xEDA, 0xEDB},     {0xEE0, 0xEFF},     {0xF48, 0xF48},
    {0xF6D, 0xF70},      {0xF98, 0xF98},     {0xFBD, 0xFBD},     {0xFCD, 0xFCD},
    {0xFDB, 0xFFF},      {0x10C6, 0x10C6},   {0x10C8, 0x10CC},   {0x10CE, 0x10CF},
    {0x1249, 0x1249},    {0x124E, 0x124F},   {0x1257, 0x1257},   {0x1259, 0x1259},
    {0x125E, 0x125F},    {0x1289, 0x1289},   {0x128E, 0x128F},   {0x12B1, 0x12B1},
    {0x12B6, 0x12B7},    {0x12BF, 0x12BF},   {0x12C1, 0x12C1},   {0x12C6, 0x12C7},
    {0x12D7, 0x12D7},    {0x1311, 0x1311},   {0x1316, 0x1317},   {0x135B, 0x135C},
    {0x137D, 0x137F},    {0x139A, 0x139F},   {0x13F6, 0x13F7},   {0x13FE, 0x13FF},
    {0x169D, 0x169F},    {0x16F9, 0x16FF},   {0x1716, 0x171E},   {0x1737, 0x173F},
    {0x1754, 0x175F},    {0x176D, 0x176D},   {0x1771, 0x1771},   {0x1774, 0x177F},
    {0x17DE, 0x17DF},    {0x17EA, 0x17EF},   {0x17FA, 0x17FF},   {0x180E, 0x180E},
    {0x181A, 0x181F},    {0x1879, 0x187F},   {0x18AB, 0x18AF},   {0x18F6, 0x18FF},
    {0x191F, 0x191F},    {0x192C, 0x192F},   {0x193C, 0x193F},   {0x1941, 0x1943},
    {0x196E, 0x196F},    {0x1975, 0x197F},   {0x19AC, 0x19AF},   {0x19CA, 0x19CF},
    {0x19DB, 0x19DD},    {0x1A1C, 0x1A1D},   {0x1A5F, 0x1A5F},   {0x1A7D, 0x1A7E},
    {0x1A8A, 0x1A8F},    {0x1A9A, 0x1A9F},   {0x1AAE, 0x1AAF},   {0x1ACF, 0x1AFF},
    {0x1B4D, 0x1B4F},    {0x1B7F, 0x1B7F},   {0x1BF4, 0x1BFB},   {0x1C38, 0x1C3A},
    {0x1C4A, 0x1C4C},    {0x1C89, 0x1C8F},   {0x1CBB, 0x1CBC},   {0x1CC8, 0x1CCF},
    {0x1CFB, 0x1CFF},    {0x1F16, 0x1F17},   {0x1F1E, 0x1F1F},   {0x1F46, 0x1F47},
    {0x1F4E, 0x1F4F},    {0x1F58, 0x1F58},   {0x1F5A, 0x1F5A},   {0x1F5C, 0x1F5C},
    {0x1F5E, 0x1F5E},    {0x1F7E, 0x1F7F},   {0x1FB5, 0x1FB5},   {0x1FC5, 0x1FC5},
    {0x1FD4, 0x1FD5},    {0x1FDC, 0x1FDC},   {0x1FF0, 0x1FF1},   {0x1FF5, 0x1FF5},
    {0x1FFF, 0x1FFF},    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x206F},
    {0x2072, 0x2073},    {0x208F, 0x208F},   {0x209D, 0x209F},   {0x20C1, 0x20CF},
    {0x20F1, 0x20FF},    {0x218C, 0x218F},   {0x2427, 0x243F},   {0x244B, 0x245F},
    {0x2B74, 0x2B75},    {0x2B96, 0x2B96},   {0x2CF4, 0x2CF8},   {0x2D26, 0x2D26},
    {0x2D28, 0x2D2C},    {0x2D2E, 0x2D2F},   {0x2D68, 0x2D6E},   {0x2D71, 0x2D7E},
    {0x2D97, 0x2D9F},    {0x2DA7, 0x2DA7},   {0x2DAF, 0x2DAF},   {0x2DB7, 0x2DB7},
    {0x2DBF, 0x2DBF},    {0x2DC7, 0x2DC7},   {0x2DCF, 0x2DCF},   {0x2DD7, 0x2DD7},
    {0x2DDF, 0x2DDF},    {0x2E5E, 0x2E7F},   {0x2E9A, 0x2E9A},   {0x2EF4, 0x2EFF},
    {0x2FD6, 0x2FEF},    {0x2FFC, 0x2FFF},   {0x3040, 0x3040},   {0x3097, 0x3098},
    {0x3100, 0x3104},    {0x3130, 0x3130},   {0x318F, 0x318F},   {0x31E4, 0x31EF},
    {0x321F, 0x321F},    {0xA48D, 0xA48F},   {0xA4C7, 0xA4CF},   {0xA62C, 0xA63F},
    {0xA6F8, 0xA6FF},    {0xA7CB, 0xA7CF},   {0xA7D2, 0xA7D2},   {0xA7D4, 0xA7D4},
    {0xA7DA, 0xA7F1},    {0xA82D, 0xA82F},   {0xA83A, 0xA83F},   {0xA878, 0xA87F},
    {0xA8C6, 0xA8CD},    {0xA8DA, 0xA8DF},   {0xA954, 0xA95E},   {0xA97D, 0xA97F},
    {0xA9CE, 0xA9CE},    {0xA9DA, 0xA9DD},   {0xA9FF, 0xA9FF},   {0xAA37, 0xAA3F},
    {0xAA4E, 0xAA4F},    {0xAA5A, 0xAA5B},   {0xAAC3, 0xAADA},   {0xAAF7, 0xAB00},
    {0xAB07, 0xAB08},    {0xAB0F, 0xAB10},   {0xAB17, 0xAB1F},   {0xAB27, 0xAB27},
    {0xAB2F, 0xAB2F},    {0xAB6C, 0xAB6F},   {0xABEE, 0xABEF},   {0xABFA, 0xABFF},
    {0xD7A4, 0xD7AF},    {0xD7C7, 0xD7CA},   {0xD7FC, 0xF8FF},   {0xFA6E, 0xFA6F},
    {0xFADA, 0xFAFF},    {0xFB07, 0xFB12},   {0xFB18, 0xFB1C},   {0xFB37, 0xFB37},
    {0xFB3D, 0xFB3D},    {0xFB3F, 0xFB3F},   {0xFB42, 0xFB42},   {0xFB45, 0xFB45},
    {0xFBC3, 0xFBD2},    {0xFD90, 0xFD91},   {0xFDC8, 0xFDCE},   {0xFDD0, 0xFDEF},
    {0xFE1A, 0xFE1F},    {0xFE53, 0xFE53},   {0xFE67, 0xFE67},   {0xFE6C, 0xFE6F},
    {0xFE75, 0xFE75},    {0xFEFD, 0xFF00},   {0xFFBF, 0xFFC1},   {0xFFC8, 0xFFC9},
    {0xFFD0, 0xFFD1},    {0xFFD8, 0xFFD9},   {0xFFDD, 0xFFDF},   {0xFFE7, 0xFFE7},
    {0xFFEF, 0xFFFB},    {0xFFFE, 0xFFFF},   {0x1000C, 0x1000C}, {0x10027, 0x10027},
    {0x1003B, 0x1003B},  {0x1003E, 0x1003E}, {0x1004E, 0x1004F}, {0x1005E, 0x1007F},
    {0x100FB, 0x100FF},  {0x10103, 0x10106}, {0x10134, 0x10136}, {0x1018F, 0x1018F},
    {0x1019D, 0x1019F},  {0x101A1, 0x101CF}, {0x101FE, 0x1027F}, {0x1029D, 0x1029F},
    {0x102D1, 0x102DF},  {0x102FC, 0x102FF}, {0x10324, 0x1032C}, {0x1034B, 0x1034F},
    {0x1037B, 0x1037F},  {0x1039E, 0x1039E}, {0x103C4, 0x103C7}, {0x103D6, 0x103FF},
    {0x1049E, 0x1049F},  {0x104AA, 0x104AF}, {0x104D4, 0x104D7}, {0x104FC, 0x104FF},
    {0x10528, 0x1052F},  {0x10564, 0x1056E}, {0x1057B, 0x1057B}, {0x1058B, 0x1058B},
    {0x10593, 0x10593},  {0x10596, 0x10596}, {0x105A2, 0x105A2}, {0x105B2, 0x105B2},
    {0x105BA, 0x105BA},  {0x105BD, 0x105FF}, {0x10737, 0x1073F}, {0x10756, 0x1075F},
    {0x10768, 0x1077F},  {0x10786, 0x10786}, {0x107B1, 0x107B1}, {0x107BB, 0x107FF},
    {0x10806, 0x10807},  {0x10809, 0x10809}, {0x10836, 0x10836}, {0x10839, 0x1083B},
    {0x1083D, 0x1083E},  {0x10856, 0x10856}, {0x1089F, 0x108A6}, {0x108B0, 0x108DF},
    {0x108F3, 0x108F3},  {0x108F6, 0x108FA}, {0x1091C, 0x1091E}, {0x1093A, 0x1093E},
    {0x10940, 0x1097F},  {0x109B8, 0x109BB}, {0x109D0, 0x109D1}, {0x10A04, 0x10A04},
    {0x10A07, 0x10A0B},  {0x10A14, 0x10A14}, {0x10A18, 0x10A18}, {0x10A36, 0x10A37},
    {0x10A3B, 0x10A3E},  {0x10A49, 0x10A4F}, {0x10A59, 0x10A5F}, {0x10AA0, 0x10ABF},
    {0x10AE7, 0x10AEA},  {0x10AF7, 0x10AFF}, {0x10B36, 0x10B38}, {0x10B56, 0x10B57},
    {0x10B73, 0x10B77},  {0x10B92, 0x10B98}, {0x10B9D, 0x10BA8}, {0x10BB0, 0x10BFF},
    {0x10C49, 0x10C7F},  {0x10CB3, 0x10CBF}, {0x10CF3, 0x10CF9}, {0x10D28, 0x10D2F},
    {0x10D3A, 0x10E5F},  {0x10E7F, 0x10E7F}, {0x10EAA, 0x10EAA}, {0x10EAE, 0x10EAF},
    {0x10EB2, 0x10EFF},  {0x10F28, 0x10F2F}, {0x10F5A, 0x10F6F}, {0x10F8A, 0x10FAF},
    {0x10FCC, 0x10FDF},  {0x10FF7, 0x10FFF}, {0x1104E, 0x11051}, {0x11076, 0x1107E},
    {0x110BD, 0x110BD},  {0x110C3, 0x110CF}, {0x110E9, 0x110EF}, {0x110FA, 0x110FF},
    {0x11135, 0x11135},  {0x11148, 0x1114F}, {0x11177, 0x1117F}, {0x111E0, 0x111E0},
    {0x111F5, 0x111FF},  {0x11212, 0x11212}, {0x1123F, 0x1127F}, {0x11287, 0x11287},
    {0x11289, 0x11289},  {0x1128E, 0x1128E}, {0x1129E, 0x1129E}, {0x112AA, 0x112AF},
    {0x112EB, 0x112EF},  {0x112FA, 0x112FF}, {0x11304, 0x11304}, {0x1130D, 0x1130E},
    {0x11311, 0x11312},  {0x11329, 0x11329}, {0x11331, 0x11331}, {0x11334, 0x11334},
    {0x1133A, 0x1133A},  {0x11345, 0x11346}, {0x11349, 0x1134A}, {0x1134E, 0x1134F},
    {0x11351, 0x11356},  {0x11358, 0x1135C}, {0x11364, 0x11365}, {0x1136D, 0x1136F},
    {0x11375, 0x113FF},  {0x1145C, 0x1145C}, {0x11462, 0x1147F}, {0x114C8, 0x114CF},
    {0x114DA, 0x1157F},  {0x115B6, 0x115B7}, {0x115DE, 0x115FF}, {0x11645, 0x1164F},
    {0x1165A, 0x1165F},  {0x1166D, 0x1167F}, {0x116BA, 0x116BF}, {0x116CA, 0x116FF},
    {0x1171B, 0x1171C},  {0x1172C, 0x1172F}, {0x11747, 0x117FF}, {0x1183C, 0x1189F},
    {0x118F3, 0x118FE},  {0x11907, 0x11908}, {0x1190A, 0x1190B}, {0x11914, 0x11914},
    {0x11917, 0x11917},  {0x11936, 0x11936}, {0x11939, 0x1193A}, {0x11947, 0x1194F},
    {0x1195A, 0x1199F},  {0x119A8, 0x119A9}, {0x119D8, 0x119D9}, {0x119E5, 0x119FF},
    {0x11A48, 0x11A4F},  {0x11AA3, 0x11AAF}, {0x11AF9, 0x11BFF}, {0x11C09, 0x11C09},
    {0x11C37, 0x11C37},  {0x11C46, 0x11C4F}, {0x11C6D, 0x11C6F}, {0x11C90, 0x11C91},
    {0x11CA8, 0x11CA8},  {0x11CB7, 0x11CFF}, {0x11D07, 0x11D07}, {0x11D0A, 0x11D0A},
    {0x11D37, 0x11D39},  {0x11D3B, 0x11D3B}, {0x11D3E, 0x11D3E}, {0x11D48, 0x11D4F},
    {0x11D5A, 0x11D5F},  {0x11D66, 0x11D66}, {0x11D69, 0x11D69}, {0x11D8F, 0x11D8F},
    {0x11D92, 0x11D92},  {0x11D99, 0x11D9F}, {0x11DAA, 0x11EDF}, {0x11EF9, 0x11FAF},
    {0x11FB1, 0x11FBF},  {0x11FF2, 0x11FFE}, {0x1239A, 0x123FF}, {0x1246F, 0x1246F},
    {0x12475, 0x1247F},  {0x12544, 0x12F8F}, {0x12FF3, 0x12FFF}, {0x1342F, 0x143FF},
    {0x14647, 0x167FF},  {0x16A39, 0x16A3F}, {0x16A5F, 0x16A5F}, {0x16A6A, 0x16A6D},
    {0x16ABF, 0x16ABF},  {0x16ACA, 0x16ACF}, {0x16AEE, 0x16AEF}, {0x16AF6, 0x16AFF},
    {0x16B46, 0x16B4F},  {0x16B5A, 0x16B5A}, {0x16B62, 0x16B62}, {0x16B78, 0x16B7C},
    {0x16B90, 0x16E3F},  {0x16E9B, 0x16EFF}, {0x16F4B, 0x16F4E}, {0x16F88, 0x16F8E},
    {0x16FA0, 0x16FDF},  {0x16FE5, 0x16FEF}, {0x16FF2, 0x16FFF}, {0x187F8, 0x187FF},
    {0x18CD6, 0x18CFF},  {0x18D09, 0x1AFEF}, {0x1AFF4, 0x1AFF4}, {0x1AFFC, 0x1AFFC},
    {0x1AFFF, 0x1AFFF},  {0x1B123, 0x1B14F}, {0x1B153, 0x1B163}, {0x1B168, 0x1B16F},
    {0x1B2FC, 0x1BBFF},  {0x1BC6B, 0x1BC6F}, {0x1BC7D, 0x1BC7F}, {0x1BC89, 0x1BC8F},
    {0x1BC9A, 0x1BC9B},  {0x1BCA0, 0x1CEFF}, {0x1CF2E, 0x1CF2F}, {0x1CF47, 0x1CF4F},
    {0x1CFC4, 0x1CFFF},  {0x1D0F6, 0x1D0FF}, {0x1D127, 0x1D128}, {0x1D173, 0x1D17A},
    {0x1D1EB, 0x1D1FF},  {0x1D246, 0x1D2DF}, {0x1D2F4, 0x1D2FF}, {0x1D357, 0x1D35F},
    {0x1D379, 0x1D3FF},  {0x1D455, 0x1D455}, {0x1D49D, 0x1D49D}, {0x1D4A0, 0x1D4A1},
    {0x1D4A3, 0x1D4A4},  {0x1D4A7, 0x1D4A8}, {0x1D4AD, 0x1D4AD}, {0x1D4BA, 0x1D4BA},
    {0x1D4BC, 0x1D4BC},  {0x1D4C4, 0x1D4C4}, {0x1D506, 0x1D506}, {0x1D50B, 0x1D50C},
    {0x1D515, 0x1D515},  {0x1D51D, 0x1D51D}, {0x1D53A, 0x1D53A}, {0x1D53F, 0x1D53F},
    {0x1D545, 0x1D545},  {0x1D547, 0x1D549}, {0x1D551, 0x1D551}, {0x1D6A6, 0x1D6A7},
    {0x1D7CC, 0x1D7CD},  {0x1DA8C, 0x1DA9A}, {0x1DAA0, 0x1DAA0}, {0x1DAB0, 0x1DEFF},
    {0x1DF1F, 0x1DFFF},  {0x1E007, 0x1E007}, {0x1E019, 0x1E01A}, {0x1E022, 0x1E022},
    {0x1E025, 0x1E025},  {0x1E02B, 0x1E0FF}, {0x1E12D, 0x1E12F}, {0x1E13E, 0x1E13F},
    {0x1E14A, 0x1E14D},  {0x1E150, 0x1E28F}, {0x1E2AF, 0x1E2BF}, {0x1E2FA, 0x1E2FE},
    {0x1E300, 0x1E7DF},  {0x1E7E7, 0x1E7E7}, {0x1E7EC, 0x1E7EC}, {0x1E7EF, 0x1E7EF},
    {0x1E7FF, 0x1E7FF},  {0x1E8C5, 0x1E8C6}, {0x1E8D7, 0x1E8FF}, {0x1E94C, 0x1E94F},
    {0x1E95A, 0x1E95D},  {0x1E960, 0x1EC70}, {0x1ECB5, 0x1ED00}, {0x1ED3E, 0x1EDFF},
    {0x1EE04, 0x1EE04},  {0x1EE20, 0x1EE20}, {0x1EE23, 0x1EE23}, {0x1EE25, 0x1EE26},
    {0x1EE28, 0x1EE28},  {0x1EE33, 0x1EE33}, {0x1EE38, 0x1EE38}, {0x1EE3A, 0x1EE3A},
    {0x1EE3C, 0x1EE41},  {0x1EE43, 0x1EE46}, {0x1EE48, 0x1EE48}, {0x1EE4A, 0x1EE4A},
    {0x1EE4C, 0x1EE4C},  {0x1EE50, 0x1EE50}, {0x1EE53, 0x1EE53}, {0x1EE55, 0x1EE56},
    {0x1EE58, 0x1EE58},  {0x1EE5A, 0x1EE5A}, {0x1EE5C, 0x1EE5C}, {0x1EE5E, 0x1EE5E},
    {0x1EE60, 0x1EE60},  {0x1EE63, 0x1EE63}, {0x1EE65, 0x1EE66}, {0x1EE6B, 0x1EE6B},
    {0x1EE73, 0x1EE73},  {0x1EE78, 0x1EE78}, {0x1EE7D, 0x1EE7D}, {0x1EE7F, 0x1EE7F},
    {0x1EE8A, 0x1EE8A},  {0x1EE9C, 0x1EEA0}, {0x1EEA4, 0x1EEA4}, {0x1EEAA, 0x1EEAA},
    {0x1EEBC, 0x1EEEF},  {0x1EEF2, 0x1EFFF}, {0x1F02C, 0x1F02F}, {0x1F094, 0x1F09F},
    {0x1F0AF, 0x1F0B0},  {0x1F0C0, 0x1F0C0}, {0x1F0D0, 0x1F0D0}, {0x1F0F6, 0x1F0FF},
    {0x1F1AE, 0x1F1E5},  {0x1F203, 0x1F20F}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F24F},
    {0x1F252, 0x1F25F},  {0x1F266, 0x1F2FF}, {0x1F6D8, 0x1F6DC}, {0x1F6ED, 0x1F6EF},
    {0x1F6FD, 0x1F6FF},  {0x1F774, 0x1F77F}, {0x1F7D9, 0x1F7DF}, {0x1F7EC, 0x1F7EF},
    {0x1F7F1, 0x1F7FF},  {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F},
    {0x1F888, 0x1F88F},  {0x1F8AE, 0x1F8AF}, {0x1F8B2, 0x1F8FF}, {0x1FA54, 0x1FA5F},
    {0x1FA6E, 0x1FA6F},  {0x1FA75, 0x1FA77}, {0x1FA7D, 0x1FA7F}, {0x1FA87, 0x1FA8F},
    {0x1FAAD, 0x1FAAF},  {0x1FABB, 0x1FABF}, {0x1FAC6, 0x1FACF}, {0x1FADA, 0x1FADF},
    {0x1FAE8, 0x1FAEF},  {0x1FAF7, 0x1FAFF}, {0x1FB93, 0x1FB93}, {0x1FBCB, 0x1FBEF},
    {0x1FBFA, 0x1FFFF},  {0x2A6E0, 0x2A6FF}, {0x2B739, 0x2B73F}, {0x2B81E, 0x2B81F},
    {0x2CEA2, 0x2CEAF},  {0x2EBE1, 0x2F7FF}, {0x2FA1E, 0x2FFFF}, {0x3134B, 0xE00FF},
    {0xE01F0, 0x10FFFF},
};
static const uint32_t uc_zs[][2] = {
    {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
    {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
};

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0])
            hi = mid;
        else if (c > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
static int uc_is_other(uint32_t c) {
    return in_ranges(uc_other, NELEM(uc_other), c);
}
static int uc_is_zs(uint32_t c) {
    return in_ranges(uc_zs, NELEM(uc_zs), c);
}
static int uc_is_zlzp(uint32_t c) {
    return c == 0x2028 || c == 0x2029;
}

/* Python's str.isprintable() for one character. */
static int py_printable(uint32_t c) {
    if (c == ' ') return 1;
    return !uc_is_other(c) && !uc_is_zs(c) && !uc_is_zlzp(c);
}

/* Python's str.isspace() for one character (as \s matches in str patterns). */
static int py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || uc_is_zs(c) ||
           uc_is_zlzp(c);
}

/* Decodes one UTF-8 sequence at s[*i]; invalid bytes decode as themselves. */
static uint32_t utf8_next(const char *s, size_t n, size_t *i) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[*i];
    size_t need;
    uint32_t cp;
    if (c < 0x80) {
        (*i)++;
        return c;
    } else if ((c & 0xe0) == 0xc0) {
        need = 1;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        need = 2;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        need = 3;
        cp = c & 0x07;
    } else {
        (*i)++;
        return c;
    }
    for (size_t k = 1; k <= need; k++) {
        if (*i + k >= n || (u[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = (cp << 6) | (u[*i + k] & 0x3f);
    }
    *i += need + 1;
    return cp;
}

/* The code points of a UTF-8 string (caller frees). */
static uint32_t *utf8_decode(const char *s, size_t n, size_t *outn) {
    uint32_t *cps = malloc((n + 1) * sizeof *cps);
    size_t k = 0;
    if (!cps) {
        *outn = 0;
        return NULL;
    }
    for (size_t i = 0; i < n;)
        cps[k++] = utf8_next(s, n, &i);
    *outn = k;
    return cps;
}

static size_t utf8_count(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; k++)
        utf8_next(s, n, &i);
    return k;
}

/* ------------------------------------------------------------------ */
/* Python repr() / str()                                                */

static void py_float_repr(struct sbuf *b, double d) {
    if (isnan(d)) {
        sb_puts(b, "nan");
        return;
    }
    if (isinf(d)) {
        sb_puts(b, d < 0 ? "-inf" : "inf");
        return;
    }
    char buf[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d) break;
    }
    /* buf: [-]D[.DDD]e[+-]XX */
    char digits[32] = {0};
    size_t nd = 0;
    const char *p = buf;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    if (neg) sb_putc(b, '-');
    if (exp >= -5 + 1 && exp < 16) {
        if (exp < 0) {
            sb_puts(b, "0.");
            for (int i = 0; i < -exp - 1; i++)
                sb_putc(b, '0');
            sb_puts(b, digits);
        } else {
            for (int i = 0; i <= exp; i++)
                sb_putc(b, (size_t)i < nd ? digits[i] : '0');
            sb_putc(b, '.');
            if ((size_t)exp + 1 < nd)
                sb_puts(b, digits + exp + 1);
            else
                sb_putc(b, '0');
        }
    } else {
        sb_putc(b, digits[0]);
        if (nd > 1) {
            sb_putc(b, '.');
            sb_puts(b, digits + 1);
        }
        sb_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
}

static void py_str_repr(struct sbuf *b, const char *s, size_t n) {
    char q = '\'';
    if (memchr(s, '\'', n) && !memchr(s, '"', n)) q = '"';
    sb_putc(b, q);
    for (size_t i = 0; i < n;) {
        size_t start = i;
        uint32_t c = utf8_next(s, n, &i);
        if (c == (uint32_t)q || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c == '\t')
            sb_puts(b, "\\t");
        else if (c == '\n')
            sb_puts(b, "\\n");
        else if (c == '\r')
            sb_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f)
            sb_printf(b, "\\x%02x", c);
        else if (c < 0x80)
            sb_putc(b, (char)c);
        else if (!py_printable(c)) {
            if (c < 0x100)
                sb_printf(b, "\\x%02x", c);
            else if (c < 0x10000)
                sb_printf(b, "\\u%04x", c);
            else
                sb_printf(b, "\\U%08x", c);
        } else
            sb_putn(b, s + start, i - start);
    }
    sb_putc(b, q);
}

static void py_repr(struct sbuf *b, const json_t *v) {
    size_t i;
    const char *k;
    json_t *e;
    switch (json_typeof(v)) {
    case JSON_NULL:
        sb_puts(b, "None");
        break;
    case JSON_TRUE:
        sb_puts(b, "True");
        break;
    case JSON_FALSE:
        sb_puts(b, "False");
        break;
    case JSON_INTEGER:
        sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        py_float_repr(b, json_real_value(v));
        break;
    case JSON_STRING:
        py_str_repr(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        sb_putc(b, '[');
        json_array_foreach(v, i, e) {
            if (i) sb_puts(b, ", ");
            py_repr(b, e);
        }
        sb_putc(b, ']');
        break;
    case JSON_OBJECT: {
        int first = 1;
        sb_putc(b, '{');
        json_object_foreach((json_t *)v, k, e) {
            if (!first) sb_puts(b, ", ");
            first = 0;
            py_str_repr(b, k, strlen(k));
            sb_puts(b, ": ");
            py_repr(b, e);
        }
        sb_putc(b, '}');
        break;
    }
    }
}

/* str(): like repr() except that a string is itself. */
static void py_str(struct sbuf *b, const json_t *v) {
    if (json_is_string(v))
        sb_putn(b, json_string_value(v), json_string_length(v));
    else
        py_repr(b, v);
}

/* ------------------------------------------------------------------ */
/* regular expressions: Python `re` syntax, re.search semantics         */

enum rop {
    R_CHAR,
    R_ANY,
    R_CLASS,
    R_BOL,   /* ^ */
    R_EOL,   /* $: end, or before a final newline */
    R_BEGIN, /* \A */
    R_END,   /* \Z */
    R_WORDB,
    R_NWORDB,
    R_GROUP, /* alternatives, optionally capturing */
    R_REPEAT,
    R_LOOK
};

enum { CLS_D = 1, CLS_ND = 2, CLS_W = 4, CLS_NW = 8, CLS_S = 16, CLS_NS = 32 };

struct rnode {
    enum rop op;
    uint32_t ch;
    /* R_CLASS */
    uint32_t (*ranges)[2];
    size_t nranges;
    int classes, negate;
    /* R_GROUP: alternatives, each a sequence; cap >= 0 when capturing */
    struct rnode **alts;
    size_t nalts;
    int cap;
    /* R_REPEAT / R_LOOK: child (a single node) */
    struct rnode *child;
    int min, max, greedy; /* max < 0: unbounded */
    int neg, behind, width;
    struct rnode *next;
};

struct regex {
    char *src;
    struct rnode *root; /* an R_GROUP */
    struct rnode **all;
    size_t nall, capall;
    int ncaps;
};

struct rparse {
    const uint32_t *p;
    size_t n, i;
    struct regex *re;
    int err;         /* invalid in Python */
    int unsupported; /* valid in Python, not handled here */
    int depth;       /* groups open around the parser's position */
};

/* Groups nested deeper are refused as invalid: the parser recurses once
 * per group, and a pattern is user data (format "regex"), so 20000 "("
 * overflowed the stack. Python's re stops near 495 with a RecursionError
 * (a 500 in Nova). */
#define REGEX_MAX_DEPTH 400

static struct rnode *rnew(struct rparse *ps, enum rop op) {
    struct regex *re = ps->re;
    if (re->nall == re->capall) {
        size_t cap = re->capall ? re->capall * 2 : 16;
        struct rnode **a = realloc(re->all, cap * sizeof *a);
        if (!a) {
            ps->err = 1;
            return NULL;
        }
        re->all = a;
        re->capall = cap;
    }
    struct rnode *nd = calloc(1, sizeof *nd);
    if (!nd) {
        ps->err = 1;
        return NULL;
    }
    nd->op = op;
    nd->cap = -1;
    re->all[re->nall++] = nd;
    return nd;
}

static void regex_free(struct regex *re) {
    if (!re) return;
    for (size_t i = 0; i < re->nall; i++) {
        free(re->all[i]->ranges);
        free(re->all[i]->alts);
        free(re->all[i]);
    }
    free(re->all);
    free(re->src);
    free(re);
}

static int is_word(uint32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (c >= 0x80 && !uc_is_other(c) && !uc_is_zs(c) && !uc_is_zlzp(c) && c != 0xa7 &&
            c != 0xab && c != 0xb6 && c != 0xb7 && c != 0xbb && c != 0xbf && c != 0xd7 &&
            c != 0xf7);
}

static int hexval(uint32_t c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

/* Parses an escape after the backslash. Returns 1 with *ch for a literal,
 * 2 with *cls for a class escape, 3 with *ch = opcode for an assertion. */
static int parse_escape(struct rparse *ps, int in_class, uint32_t *ch, int *cls) {
    if (ps->i >= ps->n) {
        ps->err = 1; /* trailing backslash */
        return 0;
    }
    uint32_t c = ps->p[ps->i++];
    switch (c) {
    case 'd':
        *cls = CLS_D;
        return 2;
    case 'D':
        *cls = CLS_ND;
        return 2;
    case 'w':
        *cls = CLS_W;
        return 2;
    case 'W':
        *cls = CLS_NW;
        return 2;
    case 's':
        *cls = CLS_S;
        return 2;
    case 'S':
        *cls = CLS_NS;
        return 2;
    case 'n':
        *ch = '\n';
        return 1;
    case 't':
        *ch = '\t';
        return 1;
    case 'r':
        *ch = '\r';
        return 1;
    case 'f':
        *ch = '\f';
        return 1;
    case 'v':
        *ch = '\v';
        return 1;
    case 'a':
        *ch = 7;
        return 1;
    case 'b':
        if (in_class) {
            *ch = 8;
            return 1;
        }
        *ch = R_WORDB;
        return 3;
    case 'B':
    case 'A':
    case 'Z':
        if (in_class) {
            ps->err = 1;
            return 0;
        }
        *ch = c == 'B' ? R_NWORDB : c == 'A' ? R_BEGIN : R_END;
        return 3;
    case 'x':
    case 'u':
    case 'U': {
        int len = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int k = 0; k < len; k++) {
            int h = ps->i < ps->n ? hexval(ps->p[ps->i]) : -1;
            if (h < 0) {
                ps->err = 1;
                return 0;
            }
            v = v * 16 + (uint32_t)h;
            ps->i++;
        }
        if (v > 0x10ffff) {
            ps->err = 1;
            return 0;
        }
        *ch = v;
        return 1;
    }
    case '0': {
        uint32_t v = 0;
        for (int k = 0; k < 2 && ps->i < ps->n && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '7'; k++)
            v = v * 8 + (ps->p[ps->i++] - '0');
        *ch = v;
        return 1;
    }
    default:
        if (c >= '1' && c <= '9') {
            if (in_class) {
                ps->err = 1; /* octal escapes other than \0 are rare: refuse */
                return 0;
            }
            ps->unsupported = 1; /* back-reference */
            *ch = c;
            return 1;
        }
        if (c < 0x80 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            if (c == 'N' || c == 'p' || c == 'P')
                ps->unsupported = 1;
            else
                ps->err = 1; /* bad escape */
            return 0;
        }
        *ch = c;
        return 1;
    }
}

static void class_add(struct rparse *ps, struct rnode *nd, uint32_t lo, uint32_t hi) {
    uint32_t(*r)[2] = realloc(nd->ranges, (nd->nranges + 1) * sizeof *r);
    if (!r) {
        ps->err = 1;
        return;
    }
    r[nd->nranges][0] = lo;
    r[nd->nranges][1] = hi;
    nd->ranges = r;
    nd->nranges++;
}

static struct rnode *parse_class(struct rparse *ps) {
    struct rnode *nd = rnew(ps, R_CLASS);
    if (!nd) return NULL;
    if (ps->i < ps->n && ps->p[ps->i] == '^') {
        nd->negate = 1;
        ps->i++;
    }
    int first = 1;
    for (;;) {
        if (ps->i >= ps->n) {
            ps->err = 1; /* unterminated character set */
            return NULL;
        }
        uint32_t c = ps->p[ps->i];
        if (c == ']' && !first) {
            ps->i++;
            break;
        }
        first = 0;
        ps->i++;
        uint32_t lo;
        int cls = 0;
        if (c == '\\') {
            int k = parse_escape(ps, 1, &lo, &cls);
            if (!k) return NULL;
            if (k == 2) {
                nd->classes |= cls;
                if (ps->i + 1 < ps->n && ps->p[ps->i] == '-' && ps->p[ps->i + 1] != ']') {
                    ps->err = 1; /* bad character range \d-x */
                    return NULL;
                }
                continue;
            }
        } else
            lo = c;
        uint32_t hi = lo;
        if (ps->i + 1 < ps->n && ps->p[ps->i] == '-' && ps->p[ps->i + 1] != ']') {
            ps->i++;
            uint32_t c2 = ps->p[ps->i++];
            if (c2 == '\\') {
                int k = parse_escape(ps, 1, &hi, &cls);
                if (!k) return NULL;
                if (k != 1) {
                    ps->err = 1;
                    return NULL;
                }
            } else
                hi = c2;
            if (hi < lo) {
                ps->err = 1;
                return NULL;
            }
        }
        class_add(ps, nd, lo, hi);
        if (ps->err) return NULL;
    }
    return nd;
}

static struct rnode *parse_alts(struct rparse *ps, int cap);

/* Reads {m}, {m,}, {,n}, {m,n}; returns 0 (and consumes nothing) when the
 * brace is a literal, as Python treats it. */
static int parse_braces(struct rparse *ps, int *min, int *max) {
    size_t i = ps->i + 1;
    long a = -1, b = -1;
    int comma = 0;
    while (i < ps->n && ps->p[i] >= '0' && ps->p[i] <= '9') {
        a = (a < 0 ? 0 : a) * 10 + (ps->p[i] - '0');
        if (a > 65535) a = 65536;
        i++;
    }
    if (i < ps->n && ps->p[i] == ',') {
        comma = 1;
        i++;
        while (i < ps->n && ps->p[i] >= '0' && ps->p[i] <= '9') {
            b = (b < 0 ? 0 : b) * 10 + (ps->p[i] - '0');
            if (b > 65535) b = 65536;
            i++;
        }
    }
    if (i >= ps->n || ps->p[i] != '}' || (a < 0 && !comma)) return 0;
    ps->i = i + 1;
    *min = a < 0 ? 0 : (int)a;
    *max = comma ? (b < 0 ? -1 : (int)b) : *min;
    if (*max >= 0 && *max < *min) ps->err = 1; /* min repeat greater than max repeat */
    return 1;
}

/* Fixed width of a sequence for lookbehind, or -1. */
static int seq_width(const struct rnode *nd);

static int node_width(const struct rnode *nd) {
    switch (nd->op) {
    case R_CHAR:
    case R_ANY:
    case R_CLASS:
        return 1;
    case R_GROUP: {
        int w = -1;
        for (size_t i = 0; i < nd->nalts; i++) {
            int x = seq_width(nd->alts[i]);
            if (x < 0 || (w >= 0 && x != w)) return -1;
            w = x;
        }
        return w < 0 ? 0 : w;
    }
    case R_REPEAT: {
        int x = node_width(nd->child);
        if (x < 0 || nd->min != nd->max) return -1;
        return x * nd->min;
    }
    default:
        return 0;
    }
}

static int seq_width(const struct rnode *nd) {
    int w = 0;
    for (; nd; nd = nd->next) {
        int x = node_width(nd);
        if (x < 0) return -1;
        w += x;
    }
    return w;
}

static struct rnode *parse_seq(struct rparse *ps) {
    struct rnode *head = NULL, **tail = &head, *last = NULL;
    while (ps->i < ps->n && !ps->err) {
        uint32_t c = ps->p[ps->i];
        if (c == '|' || c == ')') break;
        struct rnode *nd = NULL;
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            int min, max;
            size_t save = ps->i;
            if (c == '{') {
                if (!parse_braces(ps, &min, &max)) {
                    ps->i = save + 1;
                    nd = rnew(ps, R_CHAR);
                    if (nd) nd->ch = '{';
                    goto append;
                }
            } else {
                ps->i++;
                min = c == '+' ? 1 : 0;
                max = c == '?' ? 1 : -1;
            }
            if (!last || last->op == R_BOL || last->op == R_EOL || last->op == R_BEGIN ||
                last->op == R_END || last->op == R_WORDB || last->op == R_NWORDB ||
                last->op == R_LOOK) {
                ps->err = 1; /* nothing to repeat */
                return NULL;
            }
            if (last->op == R_REPEAT) {
                ps->err = 1; /* multiple repeat */
                return NULL;
            }
            int greedy = 1;
            if (ps->i < ps->n && ps->p[ps->i] == '?') {
                greedy = 0;
                ps->i++;
            } else if (ps->i < ps->n && ps->p[ps->i] == '+') {
                ps->unsupported = 1; /* possessive */
                ps->i++;
            }
            /* wrap `last` into a repeat node in place */
            struct rnode *child = rnew(ps, R_CHAR);
            if (!child) return NULL;
            struct rnode *keep_next = last->next;
            *child = *last;
            child->next = NULL;
            /* the copied arrays now belong to child */
            memset(last, 0, sizeof *last);
            last->op = R_REPEAT;
            last->cap = -1;
            last->child = child;
            last->min = min;
            last->max = max;
            last->greedy = greedy;
            last->next = keep_next;
            continue;
        }
        ps->i++;
        if (c == '.')
            nd = rnew(ps, R_ANY);
        else if (c == '^')
            nd = rnew(ps, R_BOL);
        else if (c == '$')
            nd = rnew(ps, R_EOL);
        else if (c == '[')
            nd = parse_class(ps);
        else if (c == '\\') {
            uint32_t ch = 0;
            int cls = 0;
            int k = parse_escape(ps, 0, &ch, &cls);
            if (k == 1) {
                nd = rnew(ps, R_CHAR);
                if (nd) nd->ch = ch;
            } else if (k == 2) {
                nd = rnew(ps, R_CLASS);
                if (nd) nd->classes = cls;
            } else if (k == 3)
                nd = rnew(ps, (enum rop)ch);
        } else if (c == '(') {
            int cap = -2; /* -2: capturing */
            int look = 0, neg = 0, behind = 0;
            if (ps->i < ps->n && ps->p[ps->i] == '?') {
                ps->i++;
                uint32_t t = ps->i < ps->n ? ps->p[ps->i] : 0;
                if (t == ':') {
                    cap = -1;
                    ps->i++;
                } else if (t == '=' || t == '!') {
                    cap = -1;
                    look = 1;
                    neg = t == '!';
                    ps->i++;
                } else if (t == '<' && ps->i + 1 < ps->n &&
                           (ps->p[ps->i + 1] == '=' || ps->p[ps->i + 1] == '!')) {
                    cap = -1;
                    look = behind = 1;
                    neg = ps->p[ps->i + 1] == '!';
                    ps->i += 2;
                } else if (t == 'P' && ps->i + 1 < ps->n && ps->p[ps->i + 1] == '<') {
                    ps->i += 2;
                    size_t st = ps->i;
                    while (ps->i < ps->n && ps->p[ps->i] != '>')
                        ps->i++;
                    if (ps->i >= ps->n || ps->i == st) {
                        ps->err = 1;
                        return NULL;
                    }
                    ps->i++;
                } else if (t == '#') {
                    while (ps->i < ps->n && ps->p[ps->i] != ')')
                        ps->i++;
                    if (ps->i >= ps->n) {
                        ps->err = 1;
                        return NULL;
                    }
                    ps->i++;
                    continue;
                } else {
                    /* inline flags, conditionals, named back-references */
                    ps->unsupported = 1;
                    return NULL;
                }
            }
            if (cap == -2) cap = ps->re->ncaps++;
            if (ps->depth == REGEX_MAX_DEPTH) {
                ps->err = 1;
                return NULL;
            }
            ps->depth++;
            struct rnode *g = parse_alts(ps, cap);
            ps->depth--;
            if (!g) return NULL;
            if (ps->i >= ps->n || ps->p[ps->i] != ')') {
                ps->err = 1; /* missing ) */
                return NULL;
            }
            ps->i++;
            if (look) {
                nd = rnew(ps, R_LOOK);
                if (!nd) return NULL;
                nd->child = g;
                nd->neg = neg;
                nd->behind = behind;
                if (behind) {
                    nd->width = node_width(g);
                    if (nd->width < 0) {
                        ps->err = 1; /* look-behind requires fixed-width pattern */
                        return NULL;
                    }
                }
            } else
                nd = g;
        } else {
            nd = rnew(ps, R_CHAR);
            if (nd) nd->ch = c;
        }
    append:
        if (!nd || ps->err) return NULL;
        *tail = nd;
        tail = &nd->next;
        last = nd;
    }
    return head;
}

static struct rnode *parse_alts(struct rparse *ps, int cap) {
    struct rnode *g = rnew(ps, R_GROUP);
    if (!g) return NULL;
    g->cap = cap;
    for (;;) {
        struct rnode *seq = parse_seq(ps);
        if (ps->err || ps->unsupported) return NULL;
        struct rnode **a = realloc(g->alts, (g->nalts + 1) * sizeof *a);
        if (!a) {
            ps->err = 1;
            return NULL;
        }
        g->alts = a;
        g->alts[g->nalts++] = seq;
        if (ps->i < ps->n && ps->p[ps->i] == '|') {
            ps->i++;
            continue;
        }
        return g;
    }
}

/* 0: compiled; 1: invalid pattern; 2: valid but not supported here. */
static int regex_compile(const char *src, struct regex **out) {
    *out = NULL;
    struct regex *re = calloc(1, sizeof *re);
    if (!re) return 2;
    re->src = strdup(src);
    size_t n;
    uint32_t *cps = utf8_decode(src, strlen(src), &n);
    struct rparse ps = {.p = cps, .n = n, .re = re};
    if (!re->src || !cps)
        ps.unsupported = 1;
    else {
        re->root = parse_alts(&ps, -1);
        if (!ps.err && !ps.unsupported && ps.i < ps.n) ps.err = 1; /* unbalanced parenthesis */
    }
    free(cps);
    if (ps.err || ps.unsupported || !re->root) {
        regex_free(re);
        return ps.err ? 1 : 2;
    }
    *out = re;
    return 0;
}

/* matching */

struct mctx {
    const uint32_t *s;
    size_t n;
    long steps;
    size_t *caps; /* 2 per group: start, end (SIZE_MAX: unset) */
};

struct kont {
    int (*fn)(struct mctx *, const struct kont *, size_t);
    const struct rnode *nd;
    const struct kont *up;
    int count;
    size_t last;
};

#define REGEX_STEP_LIMIT 2000000L

static int m_seq(struct mctx *m, const struct rnode *nd, size_t pos, const struct kont *k);

static int class_match(const struct rnode *nd, uint32_t c) {
    int in = 0;
    for (size_t i = 0; i < nd->nranges && !in; i++)
        if (c >= nd->ranges[i][0] && c <= nd->ranges[i][1]) in = 1;
    if (!in && nd->classes) {
        int d = c >= '0' && c <= '9';
        int w = is_word(c);
        int s = py_space(c);
        if (((nd->classes & CLS_D) && d) || ((nd->classes & CLS_ND) && !d) ||
            ((nd->classes & CLS_W) && w) || ((nd->classes & CLS_NW) && !w) ||
            ((nd->classes & CLS_S) && s) || ((nd->classes & CLS_NS) && !s))
            in = 1;
    }
    return in != nd->negate;
}

static int single_match(const struct rnode *nd, const struct mctx *m, size_t pos) {
    if (pos >= m->n) return 0;
    switch (nd->op) {
    case R_CHAR:
        return m->s[pos] == nd->ch;
    case R_ANY:
        return m->s[pos] != '\n';
    case R_CLASS:
        return class_match(nd, m->s[pos]);
    default:
        return 0;
    }
}

static int k_group_end(struct mctx *m, const struct kont *k, size_t pos) {
    const struct rnode *g = k->nd;
    if (g->cap >= 0) {
        size_t old = m->caps[2 * g->cap + 1];
        size_t olds = m->caps[2 * g->cap];
        m->caps[2 * g->cap] = k->last;
        m->caps[2 * g->cap + 1] = pos;
        if (m_seq(m, g->next, pos, k->up)) return 1;
        m->caps[2 * g->cap] = olds;
        m->caps[2 * g->cap + 1] = old;
        return 0;
    }
    return m_seq(m, g->next, pos, k->up);
}

static int rep(struct mctx *m, const struct rnode *nd, int count, size_t pos, size_t last,
               const struct kont *k);

static int k_rep(struct mctx *m, const struct kont *k, size_t pos) {
    /* an iteration that matched nothing ends the loop */
    if (pos == k->last && k->count > k->nd->min) return 0;
    return rep(m, k->nd, k->count, pos, k->last, k->up);
}

static int rep(struct mctx *m, const struct rnode *nd, int count, size_t pos, size_t last,
               const struct kont *k) {
    (void)last;
    struct kont kk = {k_rep, nd, k, count + 1, pos};
    if (count < nd->min) return m_seq(m, nd->child, pos, &kk);
    int more = nd->max < 0 || count < nd->max;
    if (nd->greedy) {
        if (more && m_seq(m, nd->child, pos, &kk)) return 1;
        return m_seq(m, nd->next, pos, k);
    }
    if (m_seq(m, nd->next, pos, k)) return 1;
    return more && m_seq(m, nd->child, pos, &kk);
}

static int k_accept(struct mctx *m, const struct kont *k, size_t pos) {
    (void)m;
    (void)k;
    (void)pos;
    return 1;
}

static int k_at(struct mctx *m, const struct kont *k, size_t pos) {
    (void)m;
    return pos == k->last;
}

static int m_seq(struct mctx *m, const struct rnode *nd, size_t pos, const struct kont *k) {
    for (;;) {
        if (++m->steps > REGEX_STEP_LIMIT) return 0;
        if (!nd) return k->fn(m, k, pos);
        switch (nd->op) {
        case R_CHAR:
        case R_ANY:
        case R_CLASS:
            if (!single_match(nd, m, pos)) return 0;
            pos++;
            nd = nd->next;
            continue;
        case R_BOL:
        case R_BEGIN:
            if (pos != 0) return 0;
            nd = nd->next;
            continue;
        case R_EOL:
            if (!(pos == m->n || (pos + 1 == m->n && m->s[pos] == '\n'))) return 0;
            nd = nd->next;
            continue;
        case R_END:
            if (pos != m->n) return 0;
            nd = nd->next;
            continue;
        case R_WORDB:
        case R_NWORDB: {
            int a = pos > 0 && is_word(m->s[pos - 1]);
            int b = pos < m->n && is_word(m->s[pos]);
            if ((a != b) != (nd->op == R_WORDB)) return 0;
            nd = nd->next;
            continue;
        }
        case R_GROUP: {
            struct kont kk = {k_group_end, nd, k, 0, pos};
            for (size_t i = 0; i < nd->nalts; i++)
                if (m_seq(m, nd->alts[i], pos, &kk)) return 1;
            return 0;
        }
        case R_REPEAT: {
            const struct rnode *c = nd->child;
            if (c->op == R_CHAR || c->op == R_ANY || c->op == R_CLASS) {
                /* single-character repeat: no recursion per character */
                size_t cnt = 0;
                size_t lim = nd->max < 0 ? SIZE_MAX : (size_t)nd->max;
                while (cnt < lim && single_match(c, m, pos + cnt))
                    cnt++;
                if (cnt < (size_t)nd->min) return 0;
                if (nd->greedy) {
                    for (size_t j = cnt + 1; j-- > (size_t)nd->min;)
                        if (m_seq(m, nd->next, pos + j, k)) return 1;
                } else {
                    for (size_t j = (size_t)nd->min; j <= cnt; j++)
                        if (m_seq(m, nd->next, pos + j, k)) return 1;
                }
                return 0;
            }
            return rep(m, nd, 0, pos, pos, k);
        }
        case R_LOOK: {
            int r;
            if (nd->behind) {
                if (pos < (size_t)nd->width)
                    r = 0;
                else {
                    struct kont ka = {k_at, NULL, NULL, 0, pos};
                    r = m_seq(m, nd->child, pos - (size_t)nd->width, &ka);
                }
            } else {
                struct kont ka = {k_accept, NULL, NULL, 0, 0};
                r = m_seq(m, nd->child, pos, &ka);
            }
            if (r == nd->neg) return 0;
            nd = nd->next;
            continue;
        }
        }
        return 0;
    }
}

/* re.search on code points; with caps != NULL (2 * ncaps slots), re.match
 * (anchored at 0) filling the groups. */
static int regex_run(const struct regex *re, const uint32_t *s, size_t n, int anchored,
                     size_t *caps) {
    size_t local[2 * 16];
    size_t *heap = NULL;
    if (!caps) {
        if (re->ncaps > 16) {
            heap = malloc(2 * (size_t)re->ncaps * sizeof *heap);
            if (!heap) return 0;
            caps = heap;
        } else
            caps = local;
    }
    struct mctx m = {.s = s, .n = n, .caps = caps};
    for (int i = 0; i < 2 * re->ncaps; i++)
        caps[i] = SIZE_MAX;
    struct kont acc = {k_accept, NULL, NULL, 0, 0};
    int found = 0;
    for (size_t start = 0; start <= n && !found; start++) {
        found = m_seq(&m, re->root, start, &acc);
        if (anchored || m.steps > REGEX_STEP_LIMIT) break;
    }
    free(heap);
    return found;
}

/* compiled-pattern cache */

#define REGEX_CACHE_SIZE 128
static struct {
    struct regex *re;
    int status;
    char *src;
} regex_cache[REGEX_CACHE_SIZE];
static size_t regex_cache_n;
static pthread_mutex_t regex_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Returns the compile status; *re is NULL unless 0. *owned tells the caller
 * to free it (cache full). */
static int regex_get(const char *src, struct regex **re, int *owned) {
    *owned = 0;
    pthread_mutex_lock(&regex_cache_lock);
    for (size_t i = 0; i < regex_cache_n; i++)
        if (strcmp(regex_cache[i].src, src) == 0) {
            *re = regex_cache[i].re;
            int st = regex_cache[i].status;
            pthread_mutex_unlock(&regex_cache_lock);
            return st;
        }
    int st = regex_compile(src, re);
    char *copy = NULL;
    if (regex_cache_n < REGEX_CACHE_SIZE && (copy = strdup(src)) != NULL) {
        regex_cache[regex_cache_n].re = *re;
        regex_cache[regex_cache_n].status = st;
        regex_cache[regex_cache_n].src = copy;
        regex_cache_n++;
    } else
        *owned = 1;
    pthread_mutex_unlock(&regex_cache_lock);
    return st;
}

/* re.search(pattern, s): 1 match, 0 no match; a pattern this engine can't
 * compile counts as matching (Python would 500 on an invalid one). */
static int regex_search(const char *pattern, const char *s, size_t n) {
    struct regex *re;
    int owned;
    int st = regex_get(pattern, &re, &owned);
    if (st != 0) return 1;
    size_t nc;
    uint32_t *cps = utf8_decode(s, n, &nc);
    int r = cps ? regex_run(re, cps, nc, 0, NULL) : 1;
    free(cps);
    if (owned) regex_free(re);
    return r;
}

/* ------------------------------------------------------------------ */
/* formats                                                              */

/* uuid: oslo's is_uuid_like (uuid.UUID accepts urn:/uuid: prefixes, braces
 * and hyphens anywhere, then 32 hex digits). */
static int fmt_uuid(const char *s, size_t n) {
    char *t = malloc(n + 1), *w;
    if (!t) return 0;
    memcpy(t, s, n);
    t[n] = '\0';
    if (strlen(t) != n) {
        free(t);
        return 0;
    }
    static const char *const drop[] = {"urn:", "uuid:"};
    for (size_t d = 0; d < 2; d++) {
        size_t dl = strlen(drop[d]);
        char *r = t;
        w = t;
        while (*r) {
            if (strncmp(r, drop[d], dl) == 0)
                r += dl;
            else
                *w++ = *r++;
        }
        *w = '\0';
    }
    char *a = t, *e = t + strlen(t);
    while (a < e && (*a == '{' || *a == '}'))
        a++;
    while (e > a && (e[-1] == '{' || e[-1] == '}'))
        e--;
    size_t hex = 0;
    int ok = 1;
    for (char *p = a; p < e; p++) {
        if (*p == '-') continue;
        if (hexval((unsigned char)*p) < 0) {
            ok = 0;
            break;
        }
        hex++;
    }
    free(t);
    return ok && hex == 32;
}

static long capnum(const uint32_t *cps, const size_t *caps, int g) {
    long v = 0;
    for (size_t i = caps[2 * g]; i < caps[2 * g + 1]; i++)
        v = v * 10 + (long)(cps[i] - '0');
    return v;
}

/* date-time: oslo parse_isotime, i.e. the iso8601 package's grammar
 * (anchored match) and datetime's range checks. */
static int fmt_datetime(const char *s, size_t n) {
    static const char *const grammar =
        "([0-9]{4})((-([0-9]{1,2}))|([0-9]{2})(?!$))?" /* year, month  */
        "(?:(?:(?:-([0-9]{1,2}))|([0-9]{2}))"          /* day         */
        "(?:[ T]([0-9]{2})(?::?([0-9]{2}))?"           /* hour minute */
        "(?::?([0-9]{1,2})(?:[.,][0-9]+)?)?"           /* second      */
        "(Z|([-+])([0-9]{2}):?([0-9]{2})?)?)?)?$";     /* zone        */
    /* The iso8601 grammar nests the day inside the month group; expressed
     * flat here, a day without a month is refused below. */
    struct regex *re;
    int owned;
    if (regex_get(grammar, &re, &owned) != 0) return 1;
    size_t nc;
    uint32_t *cps = utf8_decode(s, n, &nc);
    size_t caps[2 * 16];
    int ok = cps && re->ncaps <= 16 && regex_run(re, cps, nc, 1, caps);
    if (ok) {
#define CAPV(g, dflt) (caps[2 * (g)] == SIZE_MAX ? (dflt) : capnum(cps, caps, g))
        long year = CAPV(0, 0);
        int has_month = caps[2 * 1] != SIZE_MAX;
        long month = caps[2 * 3] != SIZE_MAX ? capnum(cps, caps, 3) : CAPV(4, 1);
        int has_day = caps[2 * 5] != SIZE_MAX || caps[2 * 6] != SIZE_MAX;
        long day = caps[2 * 5] != SIZE_MAX ? capnum(cps, caps, 5) : CAPV(6, 1);
        long hour = CAPV(7, 0), minute = CAPV(8, 0), second = CAPV(9, 0);
        long tzh = CAPV(12, 0), tzm = CAPV(13, 0);
#undef CAPV
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (has_day && !has_month)
            ok = 0;
        else if (year < 1 || month < 1 || month > 12)
            ok = 0;
        else {
            int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            int dim = mdays[month - 1] + (month == 2 && leap);
            if (day < 1 || day > dim || hour > 23 || minute > 59 || second > 59 ||
                tzh * 60 + tzm >= 24 * 60)
                ok = 0;
        }
    }
    free(cps);
    if (owned) regex_free(re);
    return ok;
}

/* base64: Python's non-strict base64.b64decode (characters outside the
 * alphabet are skipped; padding ends the data). */
static int fmt_base64(const char *s, size_t n) {
    int quad = 0, pads = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4) return 1;
            continue;
        }
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
        if (!alpha) continue;
        pads = 0;
        quad = (quad + 1) % 4;
    }
    return quad == 0;
}

/* ipv4: Python's ipaddress.IPv4Address (four decimal octets, no leading
 * zeros). */
static int ipv4_ok(const char *s, size_t n) {
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t st = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - st < 4)
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t len = i - st;
        if (len == 0 || len > 3 || v > 255 || (len > 1 && s[st] == '0')) return 0;
        parts++;
        if (parts < 4) {
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
    }
    return i == n;
}

static int ipv6_ok(const char *s, size_t n) {
    char buf[64];
    unsigned char out[16];
    if (n == 0 || n >= sizeof buf || memchr(s, '%', n)) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strlen(buf) != n) return 0;
    /* Python refuses leading zeros in an embedded IPv4 part */
    const char *lastc = strrchr(buf, ':');
    if (lastc && strchr(lastc, '.') && !ipv4_ok(lastc + 1, strlen(lastc + 1))) return 0;
    return inet_pton(AF_INET6, buf, out) == 1;
}

/* cidr: netaddr.IPNetwork, a '/' and no whitespace. */
static int fmt_cidr(const char *s, size_t n) {
    const char *slash = memchr(s, '/', n);
    if (!slash) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) return 0;
    if (memchr(slash + 1, '/', n - (size_t)(slash - s) - 1)) return 0;
    size_t alen = (size_t)(slash - s), plen = n - alen - 1;
    const char *pfx = slash + 1;
    int v6 = memchr(s, ':', alen) != NULL;
    if (v6 ? !ipv6_ok(s, alen) : !ipv4_ok(s, alen)) return 0;
    if (plen == 0) return 0;
    int digits = 1;
    for (size_t i = 0; i < plen; i++)
        if (pfx[i] < '0' || pfx[i] > '9') digits = 0;
    if (digits) {
        if (plen > 3) return 0;
        int v = atoi(pfx);
        return v <= (v6 ? 128 : 32);
    }
    if (v6 || !ipv4_ok(pfx, plen)) return 0;
    /* an IPv4 netmask or hostmask */
    char buf[16];
    memcpy(buf, pfx, plen);
    buf[plen] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1) return 0;
    uint32_t m = ntohl(a.s_addr);
    uint32_t inv = ~m;
    return (inv & (inv + 1u)) == 0 || (m & (m + 1u)) == 0;
}

/* uri: rfc3986 with a scheme and a host required. */
static int fmt_uri(const char *s, size_t n) {
    size_t i = 0;
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i >= n || s[i] != ':' || i + 2 >= n || s[i + 1] != '/' || s[i + 2] != '/') return 0;
    i += 3;
    size_t hs = i;
    while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    const char *at = NULL;
    for (size_t j = hs; j < i; j++)
        if (s[j] == '@') at = s + j;
    size_t h0 = at ? (size_t)(at - s) + 1 : hs;
    size_t h1 = i;
    if (h0 < h1 && s[h0] == '[') {
        const char *rb = memchr(s + h0, ']', h1 - h0);
        if (!rb) return 0;
        return ipv6_ok(s + h0 + 1, (size_t)(rb - s) - h0 - 1);
    }
    for (size_t j = h0; j < h1; j++)
        if (s[j] == ':') {
            for (size_t k = j + 1; k < h1; k++)
                if (s[k] < '0' || s[k] > '9') return 0;
            h1 = j;
            break;
        }
    if (h1 == h0) return 0;
    for (size_t j = 0; j < n; j++) {
        unsigned char c = (unsigned char)s[j];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
            c == '`' || c == '{' || c == '|' || c == '}')
            return 0;
    }
    return 1;
}

/* Nova's name formats: printable characters (Unicode categories other than
 * C*, Zl, Zp, within the BMP as Nova's regexes are built), optionally a set
 * of excluded ones, and either no leading/trailing Zs ("strict") or at
 * least one non-Zs character. A final "\n" is tolerated as Python's `$`
 * does. */
struct name_rule {
    const char *format;
    const char *exclude;
    int strict;
    const char *reason;
};

static const struct name_rule name_rules[] = {
    {"name", "", 1, "printable characters. Can not start or end with whitespace."},
    {"name_with_leading_trailing_spaces", "", 0,
     "printable characters with at least one non space character"},
    {"az_name", ":", 1, "printable characters except :.Can not start or end with whitespace."},
    {"az_name_with_leading_trailing_spaces", ":", 0,
     "printable characters except :, with at least one non space character"},
    {"cell_name", "!.@", 1,
     "printable characters except !, ., @. Can not start or end with whitespace."},
    {"cell_name_with_leading_trailing_spaces", "!.@", 0,
     "printable characters except !, ., @, with at least one non space character"},
};

static int name_printable(uint32_t c, const char *exclude) {
    if (c >= 0xffff || uc_is_other(c) || uc_is_zlzp(c)) return 0;
    return !(c < 0x80 && c && strchr(exclude, (int)c));
}

static int name_body_ok(const uint32_t *c, size_t n, const struct name_rule *r) {
    int nonspace = 0;
    for (size_t i = 0; i < n; i++) {
        if (!name_printable(c[i], r->exclude)) return 0;
        if (!uc_is_zs(c[i])) nonspace = 1;
    }
    if (r->strict) return n == 0 || (!uc_is_zs(c[0]) && !uc_is_zs(c[n - 1]));
    return nonspace;
}

static int fmt_name(const char *s, size_t n, const struct name_rule *r) {
    size_t nc;
    uint32_t *c = utf8_decode(s, n, &nc);
    if (!c) return 0;
    int ok = name_body_ok(c, nc, r);
    if (!ok && nc > 1 && c[nc - 1] == '\n') ok = name_body_ok(c, nc - 1, r);
    free(c);
    return ok;
}

/* format "regex": non-empty and compiles under Python's re. The pattern
 * is the user's, so it stays out of the cache, which is for the schemas'
 * own patterns (each user pattern took a slot for good, and once the
 * slots were gone the schemas' patterns were compiled at every use). */
static int fmt_regex(const char *s, size_t n) {
    if (n == 0 || strlen(s) != n) return n != 0;
    struct regex *re;
    int st = regex_compile(s, &re);
    regex_free(re);
    return st != 1;
}

/* ------------------------------------------------------------------ */
/* numbers                                                              */

/* A number as Python holds it: exact comparisons through long double
 * (wide enough for every int64 and double), and its repr. */
struct pynum {
    long double v;
    int isnan_;
    struct sbuf repr;
};

static int json_pynum(const json_t *j, struct pynum *out) {
    memset(out, 0, sizeof *out);
    if (json_is_integer(j)) {
        out->v = (long double)json_integer_value(j);
        sb_printf(&out->repr, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return 1;
    }
    if (json_is_real(j)) {
        out->v = json_real_value(j);
        out->isnan_ = isnan(json_real_value(j));
        py_float_repr(&out->repr, json_real_value(j));
        return 1;
    }
    return 0;
}

static int pystrip_space(uint32_t c) {
    return py_space(c);
}

/* int(s) for a str: whitespace around, a sign, ASCII digits with single
 * underscores between them. */
static int parse_pyint(const char *s, size_t n, struct pynum *out) {
    size_t nc;
    uint32_t *c = utf8_decode(s, n, &nc);
    if (!c) return 0;
    size_t a = 0, e = nc;
    while (a < e && pystrip_space(c[a]))
        a++;
    while (e > a && pystrip_space(c[e - 1]))
        e--;
    int neg = 0;
    if (a < e && (c[a] == '+' || c[a] == '-')) {
        neg = c[a] == '-';
        a++;
    }
    if (a >= e || c[a] < '0' || c[a] > '9') {
        free(c);
        return 0;
    }
    struct sbuf digits = {0};
    for (size_t i = a; i < e; i++) {
        if (c[i] >= '0' && c[i] <= '9')
            sb_putc(&digits, (char)c[i]);
        else if (c[i] == '_' && i + 1 < e && c[i + 1] >= '0' && c[i + 1] <= '9' && i > a)
            continue;
        else {
            free(c);
            free(digits.p);
            return 0;
        }
    }
    free(c);
    const char *d = sb_str(&digits);
    while (d[0] == '0' && d[1])
        d++;
    out->v = strtold(d, NULL);
    if (neg && strcmp(d, "0") != 0) {
        out->v = -out->v;
        sb_putc(&out->repr, '-');
    }
    sb_puts(&out->repr, d);
    free(digits.p);
    return 1;
}

/* float(s) for a str. */
static int parse_pyfloat(const char *s, size_t n, struct pynum *out) {
    size_t nc;
    uint32_t *c = utf8_decode(s, n, &nc);
    if (!c) return 0;
    size_t a = 0, e = nc;
    while (a < e && pystrip_space(c[a]))
        a++;
    while (e > a && pystrip_space(c[e - 1]))
        e--;
    struct sbuf t = {0};
    int ok = 1;
    for (size_t i = a; i < e && ok; i++) {
        if (c[i] == '_') {
            /* only between two digits */
            ok = i > a && i + 1 < e && c[i - 1] >= '0' && c[i - 1] <= '9' && c[i + 1] >= '0' &&
                 c[i + 1] <= '9';
            continue;
        }
        if (c[i] >= 0x80)
            ok = 0;
        else
            sb_putc(&t, (char)c[i]);
    }
    free(c);
    const char *p = sb_str(&t);
    if (ok) {
        const char *q = p;
        if (*q == '+' || *q == '-') q++;
        if (strcasecmp(q, "inf") == 0 || strcasecmp(q, "infinity") == 0 ||
            strcasecmp(q, "nan") == 0)
            ok = 1;
        else {
            /* digits [. digits] | . digits, then [e [sign] digits] */
            size_t i = 0, dig = 0;
            while (q[i] >= '0' && q[i] <= '9')
                i++, dig++;
            if (q[i] == '.') {
                i++;
                while (q[i] >= '0' && q[i] <= '9')
                    i++, dig++;
            }
            ok = dig > 0;
            if (ok && (q[i] == 'e' || q[i] == 'E')) {
                i++;
                if (q[i] == '+' || q[i] == '-') i++;
                size_t ed = 0;
                while (q[i] >= '0' && q[i] <= '9')
                    i++, ed++;
                ok = ed > 0;
            }
            ok = ok && q[i] == '\0';
        }
    }
    if (ok) {
        double d = strtod(p, NULL);
        out->v = d;
        out->isnan_ = isnan(d);
        py_float_repr(&out->repr, d);
    }
    free(t.p);
    return ok;
}

/* Nova's _number_from_str: int(x), else float(x), else not a number. */
static int nova_number(const json_t *j, struct pynum *out) {
    memset(out, 0, sizeof *out);
    if (json_is_boolean(j)) {
        out->v = json_is_true(j);
        sb_puts(&out->repr, json_is_true(j) ? "1" : "0");
        return 1;
    }
    if (json_is_integer(j)) return json_pynum(j, out);
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (!isfinite(d)) return 0;
        d = trunc(d);
        out->v = d;
        if (fabs(d) < 9e18)
            sb_printf(&out->repr, "%lld", (long long)d);
        else
            sb_printf(&out->repr, "%.0f", d);
        return 1;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        if (parse_pyint(s, n, out)) return 1;
        sb_puts(&out->repr, "");
        free(out->repr.p);
        memset(out, 0, sizeof *out);
        return parse_pyfloat(s, n, out);
    }
    return 0;
}

/* Python's == between JSON values as jsonschema's equal(): bools are not
 * numbers, 1 == 1.0. */
static int py_equal(const json_t *a, const json_t *b) {
    if (json_is_string(a) || json_is_string(b))
        return json_is_string(a) && json_is_string(b) &&
               json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!py_equal(json_array_get(a, i), json_array_get(b, i))) return 0;
        return 1;
    }
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b)) return 0;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w || !py_equal(v, w)) return 0;
        }
        return 1;
    }
    if (json_is_number(a) && json_is_number(b)) {
        long double x =
            json_is_integer(a) ? (long double)json_integer_value(a) : json_real_value(a);
        long double y =
            json_is_integer(b) ? (long double)json_integer_value(b) : json_real_value(b);
        return x == y;
    }
    if (json_is_boolean(a) || json_is_null(a)) return json_typeof(a) == json_typeof(b);
    return 0;
}

/* ------------------------------------------------------------------ */
/* the validator                                                        */

struct pathel {
    const char *key; /* NULL: an array index */
    size_t idx;
};

struct vctx {
    int relaxed; /* legacy /v2: extra properties are tolerated */
    int quiet; /* inside anyOf/oneOf/not trials: no message */
    struct pathel *path;
    size_t depth, cap;
    /* the first error */
    int failed;
    struct sbuf reason;
    const json_t *instance;
    int invalid_name;        /* reason is the whole message */
    struct sbuf first, last; /* path ends as str() */
    size_t err_depth;
};

static int push(struct vctx *c, const char *key, size_t idx) {
    if (c->depth == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct pathel *p = realloc(c->path, cap * sizeof *p);
        if (!p) return -1;
        c->path = p;
        c->cap = cap;
    }
    c->path[c->depth].key = key;
    c->path[c->depth].idx = idx;
    c->depth++;
    return 0;
}

static void put_pathel(struct sbuf *b, const struct pathel *e) {
    if (e->key)
        sb_puts(b, e->key);
    else
        sb_printf(b, "%zu", e->idx);
}

/* Records the error (unless quiet) and returns -1. The reason is built by
 * the caller into *r beforehand (only when !quiet). */
static int fail(struct vctx *c, const json_t *inst, struct sbuf *r) {
    if (c->quiet) {
        free(r->p);
        return -1;
    }
    c->failed = 1;
    c->reason = *r;
    c->instance = inst;
    c->err_depth = c->depth;
    if (c->depth) {
        put_pathel(&c->first, &c->path[0]);
        put_pathel(&c->last, &c->path[c->depth - 1]);
    }
    return -1;
}

static int v_schema(struct vctx *c, const json_t *schema, const json_t *inst);

static int v_descend(struct vctx *c, const json_t *schema, const json_t *inst, const char *key,
                     size_t idx) {
    /* python-jsonschema's descend() reports a false subschema without
     * adding the step to the error's path */
    if (json_is_false(schema)) return v_schema(c, schema, inst);
    if (push(c, key, idx) < 0) return -1;
    int r = v_schema(c, schema, inst);
    c->depth--;
    return r;
}

/* is_valid(): a trial run without messages. */
static int v_ok(struct vctx *c, const json_t *schema, const json_t *inst) {
    int q = c->quiet;
    c->quiet = 1;
    int r = v_schema(c, schema, inst);
    c->quiet = q;
    return r == 0;
}

static int is_type(const json_t *inst, const char *t) {
    if (!strcmp(t, "object")) return json_is_object(inst);
    if (!strcmp(t, "array")) return json_is_array(inst);
    if (!strcmp(t, "string")) return json_is_string(inst);
    if (!strcmp(t, "boolean")) return json_is_boolean(inst);
    if (!strcmp(t, "null")) return json_is_null(inst);
    if (!strcmp(t, "number")) return json_is_number(inst);
    if (!strcmp(t, "integer")) {
        if (json_is_integer(inst)) return 1;
        if (json_is_real(inst)) {
            double d = json_real_value(inst);
            return isfinite(d) && floor(d) == d;
        }
        return 0;
    }
    return 0;
}

/* A keyword's numeric value, or 0 when it is not a number. */
static int kw_num(const json_t *v, long double *out) {
    if (json_is_integer(v))
        *out = (long double)json_integer_value(v);
    else if (json_is_real(v))
        *out = json_real_value(v);
    else
        return 0;
    return 1;
}

static size_t inst_len(const json_t *inst) {
    if (json_is_string(inst)) return utf8_count(json_string_value(inst), json_string_length(inst));
    if (json_is_array(inst)) return json_array_size(inst);
    return json_object_size(inst);
}

/* minLength maxLength minItems maxItems minProperties maxProperties */
static int k_size(struct vctx *c, const char *kw, const json_t *val, const json_t *inst) {
    long double lim;
    int is_min = kw[1] == 'i';
    const char *ty = kw[3] == 'L' ? "string" : kw[3] == 'I' ? "array" : "object";
    if (!kw_num(val, &lim) || !is_type(inst, ty)) return 0;
    long double len = (long double)inst_len(inst);
    if (is_min ? !(len < lim) : !(len > lim)) return 0;
    struct sbuf r = {0};
    if (!c->quiet) {
        py_repr(&r, inst);
        if (is_min)
            sb_puts(&r, lim == 1       ? " should be non-empty"
                        : ty[0] == 'o' ? " does not have enough properties"
                                       : " is too short");
        else
            sb_puts(&r, lim == 0       ? " is expected to be empty"
                        : ty[0] == 'o' ? " has too many properties"
                                       : " is too long");
    }
    return fail(c, inst, &r);
}

static void repr_pynum_cmp(struct sbuf *r, const struct pynum *n, const char *what,
                           const json_t *lim) {
    sb_puts(r, sb_str(&n->repr));
    sb_puts(r, what);
    py_repr(r, lim);
}

/* minimum / maximum with Nova's string numbers; exclusive* plain. */
static int k_range(struct vctx *c, const char *kw, const json_t *val, const json_t *inst) {
    long double lim;
    if (!kw_num(val, &lim)) return 0;
    struct pynum n;
    int excl = kw[0] == 'e';
    int is_min = excl ? kw[10] == 'i' : kw[1] == 'i';
    if (excl ? (json_is_boolean(inst) || !json_pynum(inst, &n)) : !nova_number(inst, &n)) return 0;
    int bad;
    if (n.isnan_)
        bad = 0;
    else if (excl)
        bad = is_min ? n.v <= lim : n.v >= lim;
    else
        bad = is_min ? n.v < lim : n.v > lim;
    if (!bad) {
        free(n.repr.p);
        return 0;
    }
    struct sbuf r = {0};
    if (!c->quiet)
        repr_pynum_cmp(
            &r, &n,
            excl ? (is_min ? " is less than or equal to the minimum of "
                           : " is greater than or equal to the maximum of ")
                 : (is_min ? " is less than the minimum of " : " is greater than the maximum of "),
            val);
    free(n.repr.p);
    return fail(c, inst, &r);
}

static int k_type(struct vctx *c, const json_t *val, const json_t *inst) {
    size_t i;
    json_t *t;
    if (json_is_string(val)) {
        if (is_type(inst, json_string_value(val))) return 0;
    } else if (json_is_array(val)) {
        json_array_foreach(val, i, t) if (json_is_string(t) &&
                                          is_type(inst, json_string_value(t))) return 0;
    } else
        return 0;
    struct sbuf r = {0};
    if (!c->quiet) {
        py_repr(&r, inst);
        sb_puts(&r, " is not of type ");
        if (json_is_string(val))
            py_repr(&r, val);
        else
            json_array_foreach(val, i, t) {
                if (i) sb_puts(&r, ", ");
                py_repr(&r, t);
            }
    }
    return fail(c, inst, &r);
}

static int k_format(struct vctx *c, const json_t *val, const json_t *inst) {
    if (!json_is_string(val)) return 0;
    const char *f = json_string_value(val);
    for (size_t i = 0; i < NELEM(name_rules); i++) {
        if (strcmp(f, name_rules[i].format) != 0) continue;
        if (json_is_string(inst) &&
            fmt_name(json_string_value(inst), json_string_length(inst), &name_rules[i]))
            return 0;
        struct sbuf r = {0};
        if (!c->quiet) {
            sb_puts(&r, "An invalid 'name' value was provided. The name must be: ");
            sb_puts(&r, name_rules[i].reason);
        }
        int ret = fail(c, inst, &r);
        if (!c->quiet) c->invalid_name = 1;
        return ret;
    }
    if (!json_is_string(inst)) return 0;
    const char *s = json_string_value(inst);
    size_t n = json_string_length(inst);
    int ok = 1;
    if (!strcmp(f, "uuid"))
        ok = fmt_uuid(s, n);
    else if (!strcmp(f, "date-time"))
        ok = fmt_datetime(s, n);
    else if (!strcmp(f, "regex"))
        ok = fmt_regex(s, n);
    else if (!strcmp(f, "uri"))
        ok = fmt_uri(s, n);
    else if (!strcmp(f, "ipv4"))
        ok = ipv4_ok(s, n);
    else if (!strcmp(f, "ipv6"))
        ok = ipv6_ok(s, n);
    else if (!strcmp(f, "cidr"))
        ok = fmt_cidr(s, n);
    else if (!strcmp(f, "base64"))
        ok = fmt_base64(s, n);
    /* url, mac-address and others: Nova registers no checker, so any
     * string passes */
    if (ok) return 0;
    struct sbuf r = {0};
    if (!c->quiet) {
        py_repr(&r, inst);
        sb_puts(&r, " is not a ");
        py_repr(&r, val);
    }
    return fail(c, inst, &r);
}

static int pattern_props_match(const json_t *pp, const char *key) {
    const char *pat;
    json_t *sub;
    if (!json_is_object(pp)) return 0;
    json_object_foreach((json_t *)pp, pat, sub) {
        (void)sub;
        if (regex_search(pat, key, strlen(key))) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int k_additional(struct vctx *c, const json_t *schema, const json_t *val,
                        const json_t *inst) {
    if (!json_is_object(inst) || json_is_true(val)) return 0;
    const json_t *props = json_object_get(schema, "properties");
    const json_t *pp = json_object_get(schema, "patternProperties");
    const char *k;
    json_t *v;
    size_t n = 0, cap = json_object_size(inst);
    const char **extras = cap ? malloc(cap * sizeof *extras) : NULL;
    if (cap && !extras) return 0;
    json_object_foreach((json_t *)inst, k, v) {
        if (json_is_object(props) && json_object_get(props, k)) continue;
        if (pattern_props_match(pp, k)) continue;
        extras[n++] = k;
    }
    int ret = 0;
    if (json_is_object(val)) {
        for (size_t i = 0; i < n && ret == 0; i++)
            ret = v_descend(c, val, json_object_get(inst, extras[i]), extras[i], 0);
    } else if (json_is_false(val) && n) {
        struct sbuf r = {0};
        if (!c->quiet) {
            qsort(extras, n, sizeof *extras, cmp_str);
            if (pp) {
                for (size_t i = 0; i < n; i++) {
                    if (i) sb_puts(&r, ", ");
                    py_str_repr(&r, extras[i], strlen(extras[i]));
                }
                sb_puts(&r, n == 1 ? " does not match any of the regexes: "
                                   : " do not match any of the regexes: ");
                size_t np = json_is_object(pp) ? json_object_size(pp) : 0;
                const char **pats = np ? malloc(np * sizeof *pats) : NULL;
                size_t m = 0;
                if (pats) {
                    json_object_foreach((json_t *)pp, k, v) pats[m++] = k;
                    qsort(pats, m, sizeof *pats, cmp_str);
                    for (size_t i = 0; i < m; i++) {
                        if (i) sb_puts(&r, ", ");
                        py_str_repr(&r, pats[i], strlen(pats[i]));
                    }
                    free(pats);
                }
            } else {
                sb_puts(&r, "Additional properties are not allowed (");
                for (size_t i = 0; i < n; i++) {
                    if (i) sb_puts(&r, ", ");
                    py_str_repr(&r, extras[i], strlen(extras[i]));
                }
                sb_puts(&r, n == 1 ? " was unexpected)" : " were unexpected)");
            }
        }
        ret = fail(c, inst, &r);
    }
    free(extras);
    return ret;
}

static int k_items(struct vctx *c, const json_t *schema, const json_t *val, const json_t *inst) {
    if (!json_is_array(inst)) return 0;
    size_t total = json_array_size(inst);
    if (json_is_array(val)) {
        /* draft 4/7 tuple form, with additionalItems */
        size_t np = json_array_size(val);
        for (size_t i = 0; i < total && i < np; i++)
            if (v_descend(c, json_array_get(val, i), json_array_get(inst, i), NULL, i) < 0)
                return -1;
        const json_t *ai = json_object_get(schema, "additionalItems");
        if (total <= np || !ai || json_is_true(ai)) return 0;
        if (json_is_object(ai)) {
            for (size_t i = np; i < total; i++)
                if (v_descend(c, ai, json_array_get(inst, i), NULL, i) < 0) return -1;
            return 0;
        }
        struct sbuf r = {0};
        if (!c->quiet) {
            sb_puts(&r, "Additional items are not allowed (");
            for (size_t i = np; i < total; i++) {
                if (i > np) sb_puts(&r, ", ");
                py_repr(&r, json_array_get(inst, i));
            }
            sb_puts(&r, total - np == 1 ? " was unexpected)" : " were unexpected)");
        }
        return fail(c, inst, &r);
    }
    const json_t *pi = json_object_get(schema, "prefixItems");
    size_t prefix = json_is_array(pi) ? json_array_size(pi) : 0;
    if (total <= prefix) return 0;
    if (json_is_false(val)) {
        struct sbuf r = {0};
        if (!c->quiet) {
            size_t extra = total - prefix;
            sb_printf(&r, "Expected at most %zu %s but found %zu extra: ", prefix,
                      prefix == 1 ? "item" : "items", extra);
            if (extra == 1)
                py_repr(&r, json_array_get(inst, prefix));
            else {
                sb_putc(&r, '[');
                for (size_t i = prefix; i < total; i++) {
                    if (i > prefix) sb_puts(&r, ", ");
                    py_repr(&r, json_array_get(inst, i));
                }
                sb_putc(&r, ']');
            }
        }
        return fail(c, inst, &r);
    }
    for (size_t i = prefix; i < total; i++)
        if (v_descend(c, val, json_array_get(inst, i), NULL, i) < 0) return -1;
    return 0;
}

static int k_unique(struct vctx *c, const json_t *val, const json_t *inst) {
    if (!json_is_true(val) || !json_is_array(inst)) return 0;
    size_t n = json_array_size(inst);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (py_equal(json_array_get(inst, i), json_array_get(inst, j))) {
                struct sbuf r = {0};
                if (!c->quiet) {
                    py_repr(&r, inst);
                    sb_puts(&r, " has non-unique elements");
                }
                return fail(c, inst, &r);
            }
    return 0;
}

static int k_combine(struct vctx *c, const char *kw, const json_t *val, const json_t *inst) {
    size_t i;
    json_t *sub;
    if (!json_is_array(val)) return 0;
    if (kw[1] == 'l') { /* allOf */
        json_array_foreach(val, i, sub) if (v_schema(c, sub, inst) < 0) return -1;
        return 0;
    }
    size_t first = SIZE_MAX;
    json_array_foreach(val, i, sub) if (v_ok(c, sub, inst)) {
        first = i;
        break;
    }
    struct sbuf r = {0};
    if (first == SIZE_MAX) {
        if (!c->quiet) {
            py_repr(&r, inst);
            sb_puts(&r, " is not valid under any of the given schemas");
        }
        return fail(c, inst, &r);
    }
    if (kw[0] == 'a') /* anyOf */
        return 0;
    size_t more = 0;
    for (i = first + 1; i < json_array_size(val); i++)
        if (v_ok(c, json_array_get(val, i), inst)) {
            if (!c->quiet) {
                if (!more++) {
                    py_repr(&r, inst);
                    sb_puts(&r, " is valid under each of ");
                } else
                    sb_puts(&r, ", ");
                py_repr(&r, json_array_get(val, i));
            } else
                more++;
        }
    if (!more) return 0;
    if (!c->quiet) {
        sb_puts(&r, ", ");
        py_repr(&r, json_array_get(val, first));
    }
    return fail(c, inst, &r);
}

/* The order keywords are checked in (see the top of this file). */
static const char *const kw_order[] = {
    "type",
    "enum",
    "const",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "prefixItems",
    "minItems",
    "items",
    "maxItems",
    "uniqueItems",
    "properties",
    "patternProperties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
};

static int v_keyword(struct vctx *c, const char *kw, const json_t *schema, const json_t *val,
                     const json_t *inst) {
    size_t i;
    json_t *e;
    const char *k;
    struct sbuf r = {0};
    switch (kw[0]) {
    case 't':
        return k_type(c, val, inst);
    case 'e':
        if (!strcmp(kw, "enum")) {
            if (!json_is_array(val)) return 0;
            json_array_foreach(val, i, e) if (py_equal(e, inst)) return 0;
            if (!c->quiet) {
                py_repr(&r, inst);
                sb_puts(&r, " is not one of ");
                py_repr(&r, val);
            }
            return fail(c, inst, &r);
        }
        return k_range(c, kw, val, inst);
    case 'c':
        if (py_equal(val, inst)) return 0;
        if (!c->quiet) {
            py_repr(&r, val);
            sb_puts(&r, " was expected");
        }
        return fail(c, inst, &r);
    case 'f':
        return k_format(c, val, inst);
    case 'p':
        if (!strcmp(kw, "pattern")) {
            if (!json_is_string(val) || !json_is_string(inst) ||
                regex_search(json_string_value(val), json_string_value(inst),
                             json_string_length(inst)))
                return 0;
            if (!c->quiet) {
                py_repr(&r, inst);
                sb_puts(&r, " does not match ");
                py_repr(&r, val);
            }
            return fail(c, inst, &r);
        }
        if (!strcmp(kw, "prefixItems")) {
            if (!json_is_array(val) || !json_is_array(inst)) return 0;
            for (i = 0; i < json_array_size(val) && i < json_array_size(inst); i++)
                if (v_descend(c, json_array_get(val, i), json_array_get(inst, i), NULL, i) < 0)
                    return -1;
            return 0;
        }
        if (!strcmp(kw, "properties")) {
            if (!json_is_object(val) || !json_is_object(inst)) return 0;
            json_object_foreach((json_t *)val, k, e) {
                json_t *v = json_object_get(inst, k);
                if (v && v_descend(c, e, v, k, 0) < 0) return -1;
            }
            return 0;
        }
        /* patternProperties */
        if (!json_is_object(val) || !json_is_object(inst)) return 0;
        json_object_foreach((json_t *)val, k, e) {
            const char *ik;
            json_t *iv;
            json_object_foreach((json_t *)inst, ik, iv) {
                if (regex_search(k, ik, strlen(ik)) && v_descend(c, e, iv, ik, 0) < 0) return -1;
            }
        }
        return 0;
    case 'r':
        if (!json_is_array(val) || !json_is_object(inst)) return 0;
        json_array_foreach(val, i, e) {
            if (!json_is_string(e) || json_object_get(inst, json_string_value(e))) continue;
            if (!c->quiet) {
                py_repr(&r, e);
                sb_puts(&r, " is a required property");
            }
            return fail(c, inst, &r);
        }
        return 0;
    case 'a':
        if (!strcmp(kw, "additionalProperties"))
            return c->relaxed ? 0 : k_additional(c, schema, val, inst);
        return k_combine(c, kw, val, inst);
    case 'o':
        return k_combine(c, kw, val, inst);
    case 'i':
        return k_items(c, schema, val, inst);
    case 'u':
        return k_unique(c, val, inst);
    case 'n':
        if (!v_ok(c, val, inst)) return 0;
        if (!c->quiet) {
            py_repr(&r, inst);
            sb_puts(&r, " should not be valid under ");
            py_repr(&r, val);
        }
        return fail(c, inst, &r);
    case 'm':
        if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum")) return k_range(c, kw, val, inst);
        return k_size(c, kw, val, inst);
    }
    return 0;
}

static int v_schema(struct vctx *c, const json_t *schema, const json_t *inst) {
    if (json_is_true(schema)) return 0;
    if (json_is_false(schema)) {
        struct sbuf r = {0};
        if (!c->quiet) {
            sb_puts(&r, "False schema does not allow ");
            py_repr(&r, inst);
        }
        return fail(c, inst, &r);
    }
    if (!json_is_object(schema)) return 0;
    for (size_t i = 0; i < NELEM(kw_order); i++) {
        const json_t *val = json_object_get(schema, kw_order[i]);
        if (val && v_keyword(c, kw_order[i], schema, val, inst) < 0) return -1;
    }
    return 0;
}

int validate(const json_t *schema, const json_t *instance, enum validate_mode mode, char *msg,
             size_t msglen) {
    struct vctx c = {.relaxed = mode == VALIDATE_BODY_LEGACY};
    if (msg && msglen) msg[0] = '\0';
    int r = v_schema(&c, schema, instance);
    if (r == 0 && !c.failed) {
        free(c.path);
        return 0;
    }
    struct sbuf out = {0};
    if (c.invalid_name || c.err_depth == 0)
        sb_puts(&out, sb_str(&c.reason));
    else {
        sb_puts(&out, mode == VALIDATE_QUERY ? "Invalid input for query parameters "
                                             : "Invalid input for field/attribute ");
        sb_puts(&out, sb_str(mode == VALIDATE_QUERY ? &c.first : &c.last));
        sb_puts(&out, ". Value: ");
        py_str(&out, c.instance);
        sb_puts(&out, ". ");
        sb_puts(&out, sb_str(&c.reason));
    }
    if (msg && msglen) {
        const char *s = sb_str(&out);
        size_t n = strlen(s);
        if (n >= msglen) {
            /* cut on a UTF-8 boundary */
            n = msglen - 1;
            while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(msg, s, n);
        msg[n] = '\0';
    }
    free(out.p);
    free(c.reason.p);
    free(c.first.p);
    free(c.last.p);
    free(c.path);
    return -1;
}
