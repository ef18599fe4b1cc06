/*
 * expr.h - a small vectorised expression language over tables, in the
 * manner of pandas' DataFrame.query/eval, for the frame.filter builtin
 * ("name == 'Zelda' and x > 0") and frame.assign ("z = x * 2 + y").
 *
 * Grammar, loosest binding first:
 *
 *   or      := and (('or' | '|') and)*
 *   and     := not (('and' | '&') not)*
 *   not     := 'not' not | cmp
 *   cmp     := sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum)*
 *   sum     := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '//' | '%') unary)*
 *   unary   := ('-' | '+' | '~') unary | power
 *   power   := primary ('**' unary)?
 *   primary := INT | FLOAT | STRING | True | False | true | false
 *            | NAME | `any column name` | FUNC '(' or ')' | '(' or ')'
 *   FUNC    := isnull | notnull | abs | sqrt | log | exp
 *
 * Literals: 42, 1.5, .5, 1e-3; 'single' or "double" quoted strings with
 * the escapes \\ \' \" \n \t \r. `~` is a logical not. `**` is
 * right-associative and binds tighter than a unary minus on its left
 * (-2**2 is -4). A chain a < b < c means a < b and b < c, as in Python.
 *
 * Types. Bool operands of arithmetic count as int64. int64 op int64 gives
 * int64 for + - * // % ** (+ - * wrap around on overflow; // and % round
 * toward minus infinity like Python, and a zero divisor gives null; a
 * negative exponent gives null); `/` and any float operand give float64
 * (IEEE: x / 0 is inf, 0 / 0 is NaN, hence null). abs keeps the type,
 * sqrt/log/exp give float64. Comparisons give bool: numbers with numbers,
 * strings with strings (bytewise, like strcmp), timestamps with timestamps
 * or with a string literal 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.fff]]' (a
 * 'T' may replace the space, and a trailing 'Z' is allowed; UTC). A
 * dictionary-encoded string column compared with a literal compares the
 * dictionary once and maps the codes. `and`, `or`, `not` take bools.
 *
 * Nulls (the column validity masks, and NaN for floats): arithmetic and
 * functions propagate them; a comparison involving a null is false (so
 * `x != 1` is false where x is null, as in pandas); isnull/notnull test
 * them. and/or/not follow Kleene logic (null and false = false, null or
 * true = true, otherwise null); hp__expr_mask finally counts null as false.
 *
 * Errors are HP_ECONFIG with "expression 'TEXT': <what> at column N" (N
 * counts bytes of TEXT from 1): syntax errors, unknown functions (at parse
 * time), unknown columns and type errors (when checked against a table).
 * Parentheses, unary operators and calls nest at most HP_EXPR_MAX_NEST
 * deep and the whole tree is at most HP_EXPR_MAX_HEIGHT levels, so hostile
 * input fails cleanly.
 *
 * Evaluation is vectorised: each tree node becomes a whole vector at once,
 * over chunks of 16384 rows so intermediates stay in cache (a literal
 * stays one broadcast value, and buffers are reused in place). When the
 * left side of `and` selects at most 1/8 of a chunk's rows, the right side
 * is evaluated at those rows only, so "name == 'Zelda' and x > 0" barely
 * reads x. Out of memory for a vector is HP_ENOMEM.
 */
#ifndef HP_EXPR_H
#define HP_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "hpcpipe/node.h"

#include "error.h"

#define HP_EXPR_MAX_NEST   200
#define HP_EXPR_MAX_HEIGHT 1000

typedef struct hp_expr hp_expr;

/* Parses text into *out (NULL on error). Errors: HP_ECONFIG (syntax,
 * unknown function, nesting limits), HP_EINVAL for NULL text. */
int hp__expr_parse(const char *text, hp_expr **out, hp_error *err);
/* Parses "name = expression" (name a NAME or `quoted`): *name is malloc'd
 * and the caller frees it. On error both outputs are NULL. Column numbers
 * in messages count from the start of the whole text. */
int hp__expr_parse_assign(const char *text, char **name, hp_expr **out,
                          hp_error *err);
/* NULL is a no-op. */
void hp__expr_free(hp_expr *e);
/* The text as given to the parser. */
const char *hp__expr_text(const hp_expr *e);

/* The distinct column names the expression reads, in order of first use;
 * hp__expr_col returns NULL past the end. */
size_t hp__expr_ncols(const hp_expr *e);
const char *hp__expr_col(const hp_expr *e, size_t i);

/* Type-checks e against table t without evaluating it: unknown columns,
 * operand types, timestamp literals. HP_EINVAL if t is not a table. */
int hp__expr_type(const hp_expr *e, const hp_value *t, hp_dtype *out,
                  hp_error *err);

/* Evaluates e over every row of table t into a new table *out (the
 * caller's) of one column named "value" with t's row count. The column
 * carries a validity mask when the result has nulls; float nulls are also
 * NaN. A bare dictionary column stays dictionary-encoded. *out is NULL on
 * error. */
int hp__expr_eval(const hp_expr *e, const hp_value *t, hp_value **out,
                  hp_error *err);

/* For filters: e must be bool (HP_ECONFIG "... is int64, not a condition"
 * otherwise). *mask gets a malloc'd array of hp_value_rows(t) bytes (at
 * least 1), 1 where the row is selected (true, not null), else 0; the
 * caller frees it with free(). *mask is NULL on error. */
int hp__expr_mask(const hp_expr *e, const hp_value *t, uint8_t **mask,
                  hp_error *err);

#endif
