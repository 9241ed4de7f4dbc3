#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A translatable C string must be one literal that xgettext can read
# whole. "…%" G_GUINT64_FORMAT "…" inside _() is not: xgettext stops at
# the macro (it only knows <inttypes.h>'s PRI* macros), so the catalogue
# gets a truncated msgid that never matches at run time and the message
# stays English. Cast to a standard type instead ("%llu",
# (unsigned long long) n) or format the number outside _().
#
#   check-po-strings.py SRCDIR   (checks the C files of po/POTFILES.in)
import os
import re
import sys

srcdir = sys.argv[1]
CALL = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_)\s*\(')
LITERAL = re.compile(r'\s*(?:"(?:[^"\\\n]|\\.)*"|(?P<macro>[A-Za-z_][A-Za-z0-9_]*)|,)\s*')

bad = 0
with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as potfiles:
    files = [l.strip() for l in potfiles if l.strip() and not l.startswith('#')]
for name in files:
    if not name.endswith(('.c', '.h')):
        continue
    with open(os.path.join(srcdir, name), encoding='utf-8') as f:
        text = f.read()
    for m in CALL.finditer(text):
        pos = m.end()
        macros = []
        literals = 0
        while True:
            lit = LITERAL.match(text, pos)
            if lit is None or lit.end() == pos:
                break
            if lit.group('macro'):
                macros.append(lit.group('macro'))
            elif '"' in lit.group(0):
                literals += 1
            pos = lit.end()
        macros = [x for x in macros if not x.startswith('PRI')]
        # _(NAME) alone looks up a string marked N_() elsewhere: fine.
        if macros and literals and text.startswith(')', pos):
            line = text.count('\n', 0, m.start()) + 1
            print(f'{name}:{line}: {", ".join(macros)} inside a translatable string',
                  file=sys.stderr)
            bad += 1
if bad:
    print(f'{bad} string(s) that xgettext cannot extract whole (see the top of {sys.argv[0]})',
          file=sys.stderr)
    sys.exit(1)
print(f'{len(files)} files: every translatable string is one literal')
