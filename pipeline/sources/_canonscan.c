/* One pass over the body of a canonical XML extract: prove it valid and copy out the wanted leaves' values.
 *
 * Why C: the same proof as vectorised numpy passes cost ~4 CPU-s per national VID file (347 MB), more than the
 * libxml2 validation it replaces; a byte-at-a-time state machine needs one read of each byte and no index arrays.
 * It is the only compiled code of the project and stays small on purpose: `pipeline/sources/xmlcanon.py` derives
 * the grammar from the XSD, checks the head and tail, and builds the Arrow columns; this file only walks the body.
 *
 * scan(data, start, end, tags, allowed, max_chars, attribute_chars, wanted, max_text, per_child, lines)
 *   data      a buffer (the file's memory map); the body is data[start:end]
 *   tags      tuple of bytes, indexed by tag code: 0 <Record>, 1 </Record>, 2+2k <Leaf_k>, 3+2k </Leaf_k>; the
 *             start tag of a leaf with an attribute is written up to its value's opening quote: <Month period="
 *   allowed   bytes of K*K flags (K = len(tags)): allowed[a*K+b] = event b may follow event a (leaf ends are not
 *             events: a leaf's start must be followed by its text and its own end; a repeated leaf allows itself)
 *   max_chars tuple, per leaf, of its text's maxLength in characters or -1
 *   attribute_chars  tuple, per leaf: NO_ATTRIBUTE (-2) where its start tag is a plain <Leaf>, else the maxLength
 *             of its one attribute's value (or -1), a value that is followed by exactly '">'
 *   wanted    tuple of distinct (leaf index, part) whose values are returned, in that order (part 0: the text,
 *             1: the attribute)
 *   max_text  the longest text, attribute value (or whitespace run) in bytes that may be proven
 *   per_child 0: one row per record; 1: one row per occurrence of a wanted leaf (VSAA's Months), with the row's
 *             record index (from 0) and child index within its record (from 0, counting rows only)
 *   lines     true: also return where each row starts, in lines
 *   Arguments that disagree (sizes, a leaf's end named as an event in allowed, a limit below -1, a negative
 *   max_text, a wanted value the grammar does not have) raise ValueError: the walk never reads outside them.
 * returns None when the body cannot be proven canonical, else (records, rows, ((offsets, data), ...) per wanted
 *   value, levels[, newlines]): offsets is rows+1 native int32 (Arrow's string offsets), data the values one after
 *   another, an absent value reading "" as an empty one does; levels is None, or with per_child (record, child) as
 *   rows native uint32 each; with lines, newlines is rows native int64, the LF bytes in data[start:] before the
 *   tag that starts each row (<Record>, or the child's: the walk sees every byte anyway, so the lines a quarantine
 *   reports cost no second pass over the file).
 *
 * Canonical body (anything else answers None, never an error): whitespace [ \t\n] and whole records; the tags are
 * exactly the schema's bytes in an allowed order; a leaf text holds no '<', '>' or '&', no C0 control byte but
 * TAB and LF, only valid UTF-8 without surrogates, U+FFFE or U+FFFF, and at most max_chars characters; an
 * attribute value the same without TAB and LF (libxml2 would normalise them to spaces) and without '"'.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define NO_ATTRIBUTE (-2)
#define HOT static inline __attribute__((always_inline)) /* in the walk's loop: no call per value */
enum { TEXT = 0, ATTRIBUTE = 1 };

typedef struct {
    char *data;
    int32_t *offsets;
    Py_ssize_t used, capacity, records_capacity;
} Column;

typedef struct { /* per row, if wanted: the LF bytes before its tag; with per_child, <record> and <child> */
    int64_t *newlines;
    uint32_t *record, *child;
    int per_child, lines;
    Py_ssize_t capacity;
} Rows;

typedef struct {
    const unsigned char **tag;
    Py_ssize_t *tag_length;
    uint64_t *head, *tail;     /* a tag's first and last 8 bytes, where it has 8 to 16 */
    const unsigned char *allowed;
    Py_ssize_t *next;          /* per event, the events allowed after it: next[a*codes .. +next_count[a]] */
    Py_ssize_t *next_count;
    Py_ssize_t codes;
    const long *max_chars, *attribute_chars;
    Py_ssize_t wanted_count;
    Py_ssize_t *column_of;     /* per leaf and part (2 * leaf + part), its column in `wanted`, or -1 */
    char *starts_row;          /* per leaf: with per_child, whether its occurrence makes a row */
    Py_ssize_t max_text;
} Grammar;

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* Bytes a leaf text may hold as they are: TAB and ASCII from space on, but for '<', '>' and '&' (LF too, but it
 * is counted on the slow way); an attribute value the same without TAB and '"' (TAB, LF and CR in an attribute
 * value would be normalised to spaces by a parser: never canonical). */
static unsigned char plain_text[256], plain_attribute[256];

static void init_plain(void)
{
    for (int c = 0x20; c < 0x80; c++)
        plain_text[c] = plain_attribute[c] = c != '<' && c != '>' && c != '&';
    plain_text['\t'] = 1;
    plain_attribute['"'] = 0;
}

/* The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static Py_ssize_t multibyte(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = *p;
    if (c >= 0xC2 && c <= 0xDF)
        return end - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
            return 0; /* overlong, surrogate */
        if (c == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
            return 0; /* U+FFFE, U+FFFF */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
            return 0; /* overlong, beyond U+10FFFF */
        return 4;
    }
    return 0;
}

/* The end of the valid value starting at p, or NULL: a text ends at its '<', an attribute value at its closing
 * '"' (stop, with the table of the bytes it may hold as they are); *chars counts its characters and a text's
 * line feeds are added to *newlines. */
HOT const unsigned char *value_end(const unsigned char *p, const unsigned char *end, unsigned char stop,
                                   const unsigned char *plain, Py_ssize_t *chars, int64_t *newlines)
{
    const unsigned char *start = p;
    Py_ssize_t continuations = 0;
    for (;;) {
        while (p < end && plain[*p])
            p++;
        if (p == end)
            return NULL; /* the body ended inside a value */
        if (*p == stop) {
            *chars = (p - start) - continuations;
            return p;
        }
        if (*p == '\n' && stop == '<') {
            (*newlines)++;
            p++;
            continue;
        }
        if (*p < 0x80)
            return NULL; /* '>', '&', a control byte, or '<' in an attribute value */
        Py_ssize_t length = multibyte(p, end);
        if (!length)
            return NULL;
        continuations += length - 1;
        p += length;
    }
}

static uint64_t load8(const unsigned char *p)
{
    uint64_t value;
    memcpy(&value, p, 8); /* one unaligned load */
    return value;
}

/* Whether the tag `code` is written at p: two 8-byte compares for the usual 8..16-byte tags. */
static inline __attribute__((always_inline)) int tag_at(const Grammar *g, const unsigned char *p, const unsigned char *end, Py_ssize_t code)
{
    Py_ssize_t n = g->tag_length[code];
    if (end - p < n)
        return 0;
    if (n >= 8 && n <= 16)
        return load8(p) == g->head[code] && load8(p + n - 8) == g->tail[code];
    return memcmp(p, g->tag[code], n) == 0;
}

/* The allowed events after each event as short lists, leaves before </Record> (the likelier next tag first; at
 * most one can match, as every tag ends at its only '>'). */
static void plan_next(Grammar *g)
{
    for (Py_ssize_t a = 0; a < g->codes; a++) {
        Py_ssize_t count = 0;
        for (Py_ssize_t b = 0; b < g->codes; b++)
            if (b != 1 && g->allowed[a * g->codes + b])
                g->next[a * g->codes + count++] = b;
        if (g->allowed[a * g->codes + 1])
            g->next[a * g->codes + count++] = 1;
        g->next_count[a] = count;
    }
}

static int grow_slowly(Column *column, Py_ssize_t records, Py_ssize_t more)
{
    if (records + 2 > column->records_capacity) {
        Py_ssize_t capacity = column->records_capacity ? 2 * column->records_capacity : 1 << 16;
        int32_t *offsets = realloc(column->offsets, capacity * sizeof(int32_t));
        if (!offsets)
            return 0;
        column->offsets = offsets;
        column->records_capacity = capacity;
    }
    if (column->used + more > column->capacity) {
        Py_ssize_t capacity = column->capacity ? 2 * column->capacity : 1 << 20;
        while (capacity < column->used + more)
            capacity *= 2;
        char *data = realloc(column->data, capacity);
        if (!data)
            return 0;
        column->data = data;
        column->capacity = capacity;
    }
    return 1;
}

/* Room for offsets up to records + 1 and `more` text bytes. */
static inline __attribute__((always_inline)) int grow(Column *column, Py_ssize_t records, Py_ssize_t more)
{
    if (records + 2 <= column->records_capacity && column->used + more <= column->capacity)
        return 1;
    return grow_slowly(column, records, more);
}

static int grow_rows(Rows *info, Py_ssize_t rows)
{
    if (rows + 1 <= info->capacity)
        return 1;
    Py_ssize_t capacity = info->capacity ? 2 * info->capacity : 1 << 16;
    if (info->lines) {
        int64_t *newlines = realloc(info->newlines, capacity * sizeof(int64_t));
        if (!newlines)
            return 0;
        info->newlines = newlines;
    }
    if (info->per_child) {
        uint32_t *record = realloc(info->record, capacity * sizeof(uint32_t));
        if (!record)
            return 0;
        info->record = record;
        uint32_t *child = realloc(info->child, capacity * sizeof(uint32_t));
        if (!child)
            return 0;
        info->child = child;
    }
    info->capacity = capacity;
    return 1;
}

/* Start row number *rows: every value "" until its leaf is seen; its line feeds so far, record and child. */
HOT int new_row(const Grammar *g, Column *columns, Rows *info, Py_ssize_t *rows, int64_t newlines,
                Py_ssize_t record, Py_ssize_t child)
{
    for (Py_ssize_t j = 0; j < g->wanted_count; j++) {
        if (!grow(&columns[j], *rows, 0))
            return 0;
        columns[j].offsets[*rows + 1] = (int32_t)columns[j].used;
    }
    if (record > UINT32_MAX || child > UINT32_MAX || (*rows + 1 > info->capacity && !grow_rows(info, *rows)))
        return 0;
    if (info->lines)
        info->newlines[*rows] = newlines;
    if (info->per_child) {
        info->record[*rows] = (uint32_t)record;
        info->child[*rows] = (uint32_t)child;
    }
    (*rows)++;
    return 1;
}

/* Copy a leaf's text or attribute value into the last row of its column, if it has one. */
HOT int copy_value(const Grammar *g, Column *columns, Py_ssize_t rows, Py_ssize_t leaf, int part,
                   const unsigned char *p, Py_ssize_t length)
{
    Py_ssize_t j = g->column_of[2 * leaf + part];
    if (j < 0)
        return 1;
    Column *column = &columns[j];
    if (column->used + length > INT32_MAX || !grow(column, rows, length))
        return 0;
    if (length) /* no data buffer yet while every value so far was empty */
        memcpy(column->data + column->used, p, length);
    column->used += length;
    column->offsets[rows] = (int32_t)column->used;
    return 1;
}

/* The end of a valid value within the limits (max_text bytes, max_chars characters unless -1), or NULL. */
HOT const unsigned char *bounded_value(const Grammar *g, const unsigned char *p, const unsigned char *end,
                                      unsigned char stop, long max_chars, int64_t *newlines)
{
    Py_ssize_t chars = 0;
    const unsigned char *value = value_end(p, end, stop, stop == '<' ? plain_text : plain_attribute, &chars,
                                           newlines);
    if (!value || value - p > g->max_text || (max_chars >= 0 && chars > max_chars))
        return NULL;
    return value;
}

/* 1: proven (columns and rows filled, *records and *made set); 0: not canonical; -1: out of memory, a column
 * over 2 GB or a record index over 32 bits. */
static int walk(const Grammar *g, const unsigned char *p, const unsigned char *end, Column *columns, Rows *info,
                Py_ssize_t *records, Py_ssize_t *made)
{
    Py_ssize_t state = 1, count = 0, child = 0; /* as if just after a </Record> */
    int64_t newlines = 0; /* tags hold none: only whitespace and texts do */
    int any_tag = 0;
    *made = 0;
    while (p < end) {
        const unsigned char *q = p;
        while (q < end && is_space(*q))
            newlines += *q++ == '\n';
        if (q - p > g->max_text)
            return 0;
        if (q == end)
            break;
        if (*q != '<')
            return 0;
        Py_ssize_t code = -1;
        const Py_ssize_t *candidates = g->next + state * g->codes;
        for (Py_ssize_t i = 0; i < g->next_count[state]; i++) {
            if (tag_at(g, q, end, candidates[i])) {
                code = candidates[i];
                break;
            }
        }
        if (code < 0)
            return 0;
        any_tag = 1;
        p = q + g->tag_length[code];
        if (code == 0) {
            count++;
            child = 0;
            if (!info->per_child && !new_row(g, columns, info, made, newlines, count - 1, 0))
                return -1;
        } else if (code >= 2) { /* a leaf's start: its attribute value, its text, then its own end */
            Py_ssize_t leaf = (code - 2) / 2;
            if (info->per_child && g->starts_row[leaf]
                && !new_row(g, columns, info, made, newlines, count - 1, child++))
                return -1;
            if (g->attribute_chars[leaf] != NO_ATTRIBUTE) {
                const unsigned char *quote = bounded_value(g, p, end, '"', g->attribute_chars[leaf], &newlines);
                if (!quote || end - quote < 2 || quote[1] != '>')
                    return 0;
                if (!copy_value(g, columns, *made, leaf, ATTRIBUTE, p, quote - p))
                    return -1;
                p = quote + 2;
            }
            const unsigned char *text_end = bounded_value(g, p, end, '<', g->max_chars[leaf], &newlines);
            if (!text_end || !tag_at(g, text_end, end, code + 1))
                return 0;
            if (!copy_value(g, columns, *made, leaf, TEXT, p, text_end - p))
                return -1;
            p = text_end + g->tag_length[code + 1];
        }
        state = code;
    }
    *records = count;
#ifdef EIKIS_PLANT_OOB
    /* Never in a real build: scripts/sanitize_canonscan.sh --self-check compiles this read of the byte after the
     * body to prove that its guard-page and AddressSanitizer runs catch an out-of-bounds read. */
    if (*(volatile const unsigned char *)end == 0xFF)
        return 0;
#endif
    return !any_tag || state == 1;
}

static PyObject *result(const Grammar *g, Column *columns, const Rows *info, Py_ssize_t records,
                        Py_ssize_t rows)
{
    PyObject *pairs = PyTuple_New(g->wanted_count);
    if (!pairs)
        return NULL;
    for (Py_ssize_t j = 0; j < g->wanted_count; j++) {
        Column *column = &columns[j];
        if (!grow(column, rows, 0)) {
            Py_DECREF(pairs);
            return PyErr_NoMemory();
        }
        column->offsets[0] = 0;
        PyObject *pair = Py_BuildValue("(y#y#)", (const char *)column->offsets,
                                       (Py_ssize_t)((rows + 1) * sizeof(int32_t)),
                                       column->data ? column->data : "", column->used);
        if (!pair) {
            Py_DECREF(pairs);
            return NULL;
        }
        PyTuple_SET_ITEM(pairs, j, pair);
    }
    PyObject *levels = Py_NewRef(Py_None);
    if (info->per_child) {
        Py_ssize_t size = rows * (Py_ssize_t)sizeof(uint32_t);
        Py_SETREF(levels, Py_BuildValue("(y#y#)", info->record ? (const char *)info->record : "", size,
                                        info->child ? (const char *)info->child : "", size));
    }
    if (!levels) {
        Py_DECREF(pairs);
        return NULL;
    }
    if (!info->lines)
        return Py_BuildValue("(nnNN)", records, rows, pairs, levels);
    return Py_BuildValue("(nnNNy#)", records, rows, pairs, levels, info->newlines ? (const char *)info->newlines : "",
                         rows * (Py_ssize_t)sizeof(int64_t));
}

/* Whether the arguments describe a grammar the walk can run without reading outside them: events in `allowed` are
 * record tags and leaf starts only (a leaf's end, taken as an event, would make the walk look for the tag after
 * the last one), limits are -1 (none) or more, an attribute limit may also be NO_ATTRIBUTE, max_text is not
 * negative. 0 with a ValueError set. */
static int check_grammar(const Grammar *g, Py_ssize_t leaves)
{
    for (Py_ssize_t a = 0; a < g->codes; a++)
        for (Py_ssize_t b = 0; b < g->codes; b++)
            if (g->allowed[a * g->codes + b] > 1 || (g->allowed[a * g->codes + b] && ((a >= 2 && a % 2)
                                                                                     || (b >= 2 && b % 2)))) {
                PyErr_SetString(PyExc_ValueError, "scan: allowed names a leaf's end tag as an event, or is not 0/1");
                return 0;
            }
    for (Py_ssize_t i = 0; i < leaves; i++)
        if (g->max_chars[i] < -1 || g->attribute_chars[i] < NO_ATTRIBUTE) {
            PyErr_SetString(PyExc_ValueError, "scan: a limit below -1 (none), or an attribute limit below -2");
            return 0;
        }
    if (g->max_text < 0) {
        PyErr_SetString(PyExc_ValueError, "scan: max_text is negative");
        return 0;
    }
    return 1;
}

/* The wanted (leaf, part) pairs into g's column_of; with per_child, which leaves start a row. 0 with an
 * exception set. */
static int read_wanted(Grammar *g, PyObject *wanted_tuple, Py_ssize_t leaves)
{
    for (Py_ssize_t j = 0; j < g->wanted_count; j++) {
        PyObject *pair = PyTuple_GET_ITEM(wanted_tuple, j);
        Py_ssize_t leaf;
        int part;
        if (!PyTuple_Check(pair) || !PyArg_ParseTuple(pair, "ni", &leaf, &part) || leaf < 0 || leaf >= leaves
            || (part != TEXT && part != ATTRIBUTE) || g->column_of[2 * leaf + part] >= 0
            || (part == ATTRIBUTE && g->attribute_chars[leaf] == NO_ATTRIBUTE)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "scan: a wanted value is not a distinct (leaf, part) of the grammar");
            return 0;
        }
        g->column_of[2 * leaf + part] = j;
        g->starts_row[leaf] = 1;
    }
    return 1;
}

static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer buffer;
    Py_ssize_t start, end, max_text;
    PyObject *tags, *max_chars_tuple, *attribute_chars_tuple, *wanted_tuple;
    Py_buffer allowed;
    int per_child, lines;
    if (!PyArg_ParseTuple(args, "y*nnO!y*O!O!O!npp", &buffer, &start, &end, &PyTuple_Type, &tags, &allowed,
                          &PyTuple_Type, &max_chars_tuple, &PyTuple_Type, &attribute_chars_tuple, &PyTuple_Type,
                          &wanted_tuple, &max_text, &per_child, &lines))
        return NULL;
    PyObject *answer = NULL;
    Grammar g = {0};
    Column *columns = NULL;
    Rows info = {0};
    Py_ssize_t codes = PyTuple_GET_SIZE(tags), leaves = PyTuple_GET_SIZE(max_chars_tuple);
    g.codes = codes;
    g.wanted_count = PyTuple_GET_SIZE(wanted_tuple);
    g.max_text = max_text;
    g.allowed = allowed.buf;
    long *max_chars = NULL, *attribute_chars = NULL;
    if (start < 0 || end > buffer.len || start > end || codes != 2 + 2 * leaves || allowed.len != codes * codes
        || PyTuple_GET_SIZE(attribute_chars_tuple) != leaves) {
        PyErr_SetString(PyExc_ValueError, "scan: bounds, tags, allowed, max_chars and attribute_chars do not agree");
        goto done;
    }
    g.tag = PyMem_Calloc(codes, sizeof(*g.tag));
    g.tag_length = PyMem_Calloc(codes, sizeof(*g.tag_length));
    g.head = PyMem_Calloc(codes, sizeof(*g.head));
    g.tail = PyMem_Calloc(codes, sizeof(*g.tail));
    g.next = PyMem_Calloc(codes * codes, sizeof(*g.next));
    g.next_count = PyMem_Calloc(codes, sizeof(*g.next_count));
    g.column_of = PyMem_Calloc(leaves ? 2 * leaves : 1, sizeof(*g.column_of));
    g.starts_row = PyMem_Calloc(leaves ? leaves : 1, 1);
    max_chars = PyMem_Calloc(leaves ? leaves : 1, sizeof(long));
    attribute_chars = PyMem_Calloc(leaves ? leaves : 1, sizeof(long));
    g.max_chars = max_chars;
    g.attribute_chars = attribute_chars;
    columns = calloc(g.wanted_count ? g.wanted_count : 1, sizeof(Column));
    if (!g.tag || !g.tag_length || !g.head || !g.tail || !g.next || !g.next_count || !g.column_of || !g.starts_row
        || !max_chars || !attribute_chars || !columns) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < codes; i++) {
        PyObject *tag = PyTuple_GET_ITEM(tags, i);
        if (!PyBytes_Check(tag) || PyBytes_GET_SIZE(tag) < 3) {
            PyErr_SetString(PyExc_TypeError, "scan: every tag is bytes such as b'<Name>'");
            goto done;
        }
        g.tag[i] = (const unsigned char *)PyBytes_AS_STRING(tag);
        g.tag_length[i] = PyBytes_GET_SIZE(tag);
        if (g.tag_length[i] >= 8) {
            g.head[i] = load8(g.tag[i]);
            g.tail[i] = load8(g.tag[i] + g.tag_length[i] - 8);
        }
    }
    plan_next(&g);
    for (Py_ssize_t i = 0; i < leaves; i++) {
        max_chars[i] = PyLong_AsLong(PyTuple_GET_ITEM(max_chars_tuple, i));
        attribute_chars[i] = PyLong_AsLong(PyTuple_GET_ITEM(attribute_chars_tuple, i));
        g.column_of[2 * i] = g.column_of[2 * i + 1] = -1;
    }
    if (PyErr_Occurred() || !check_grammar(&g, leaves) || !read_wanted(&g, wanted_tuple, leaves))
        goto done;
    Py_ssize_t records = 0, rows = 0;
    int proven;
    const unsigned char *base = buffer.buf;
    Py_BEGIN_ALLOW_THREADS
    info.per_child = per_child;
    info.lines = lines;
    proven = walk(&g, base + start, base + end, columns, &info, &records, &rows);
    Py_END_ALLOW_THREADS
    if (proven == 1) {
        answer = result(&g, columns, &info, records, rows);
    } else if (proven == 0 || proven == -1) {
        answer = Py_NewRef(Py_None); /* -1: too big or no memory for the fast path; the exact path decides */
    }
done:
    if (columns) {
        for (Py_ssize_t j = 0; j < g.wanted_count; j++) {
            free(columns[j].data);
            free(columns[j].offsets);
        }
        free(columns);
    }
    free(info.newlines);
    free(info.record);
    free(info.child);
    PyMem_Free(g.tag);
    PyMem_Free(g.tag_length);
    PyMem_Free(g.head);
    PyMem_Free(g.tail);
    PyMem_Free(g.next);
    PyMem_Free(g.next_count);
    PyMem_Free(g.column_of);
    PyMem_Free(g.starts_row);
    PyMem_Free(max_chars);
    PyMem_Free(attribute_chars);
    PyBuffer_Release(&allowed);
    PyBuffer_Release(&buffer);
    return answer;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "Prove a canonical XML body valid and copy out the wanted leaves' values."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_canonscan", "The compiled body walk of pipeline.sources.xmlcanon.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__canonscan(void)
{
    init_plain();
    return PyModule_Create(&module);
}
