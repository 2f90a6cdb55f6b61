#!/usr/bin/python3
"""Doc-comment coverage of sweet_async's public API.

Parses include/sweet_async/sweet_async.hpp with libclang (Debian package
python3-clang-14) and lists every public declaration of the public headers
(include/sweet_async/, outside detail/ and impl/) that has no doc comment:
`///` (or `/** */`) before it, or `///<` after it on the same line.

    /usr/bin/python3 .ci/doc_coverage.py [REPO_ROOT] [--libclang PATH]

(/usr/bin/python3: the Debian bindings are installed for the system
interpreter, which may not be the first python3 on the PATH.)

Prints one `file:line: KIND name` line per undocumented declaration, then the
count (and how many declarations were checked) on stderr. Exit status: 0 when everything is documented, 1 when
something is not, 2 when the headers do not parse.

What is checked: namespace-scope and public member declarations of every kind
(types, functions, constructors, destructors, fields, enumerators, aliases,
variables, concepts, hidden friend functions) and the `SWEET_ASYNC_` macros.
What is exempt, because its meaning is fixed by the language or by a comment
elsewhere:
  - private and protected members, and anything in a `detail` or `impl`
    namespace;
  - operators and conversion functions, and `= default` / `= delete` members;
  - the members of `fmt::formatter` specialisations: the specialisation's own
    comment (e.g. `/// "task 'x' completed: ..."`) says what the text looks
    like;
  - include guards, and friend class declarations (they grant access and
    declare nothing).
"""

import argparse
import os
import re
import sys

import clang.cindex as ci

K = ci.CursorKind

# Arguments that make the umbrella header parse as the tests compile it.
# Clang 14 with libstdc++ needs Asio's coroutine support switched on by hand
# (config.hpp does the same for users).
CLANG_ARGS = [
    "-x", "c++", "-std=c++20",
    "-DASIO_HAS_CO_AWAIT=1", "-DASIO_HAS_STD_COROUTINE=1", "-DASIO_NO_DEPRECATED",
]
UMBRELLA = "#include <sweet_async/sweet_async.hpp>\n"

# Namespaces, and directories of include/sweet_async/, whose content is not public API.
PRIVATE_NAMESPACES = {"detail", "impl"}

# Declarations that contain other declarations to check (their public members).
RECORD_KINDS = {
    K.CLASS_DECL, K.STRUCT_DECL, K.UNION_DECL, K.CLASS_TEMPLATE,
    K.CLASS_TEMPLATE_PARTIAL_SPECIALIZATION, K.ENUM_DECL,
}
FUNCTION_KINDS = {
    K.FUNCTION_DECL, K.FUNCTION_TEMPLATE, K.CXX_METHOD, K.CONSTRUCTOR, K.DESTRUCTOR,
    K.CONVERSION_FUNCTION,
}
# Cursors inside declarations that are not declarations of their own.
NOT_DECLARATIONS = {
    K.CXX_ACCESS_SPEC_DECL, K.STATIC_ASSERT, K.USING_DIRECTIVE, K.CXX_BASE_SPECIFIER,
    K.TEMPLATE_TYPE_PARAMETER, K.TEMPLATE_NON_TYPE_PARAMETER, K.TEMPLATE_TEMPLATE_PARAMETER,
    K.PARM_DECL,
}


class Checker:
    def __init__(self, root):
        self.root = root
        self.public_dir = os.path.join(root, "include", "sweet_async") + os.sep
        self.missing = {}  # (path, line, column) -> (kind, name)
        self.seen_usrs = set()
        self.checked = 0  # declarations looked at, exemptions excluded
        self._lines = {}  # path -> the file's lines, for what libclang does not attach

    # -- where a declaration lives --------------------------------------------------------------

    def is_public_file(self, cursor):
        location = cursor.location
        if location.file is None:
            return False
        path = os.path.abspath(location.file.name)
        if not path.startswith(self.public_dir):
            return False
        relative = path[len(self.public_dir):]
        # detail/ and impl/ folders sit in each layer's folder (base/detail/, receiver/impl/, ...)
        return not any(part in PRIVATE_NAMESPACES for part in relative.split(os.sep)[:-1])

    def report(self, cursor, kind, name):
        location = cursor.location
        path = os.path.relpath(os.path.abspath(location.file.name), self.root)
        self.missing[(path, location.line, location.column)] = (kind, name)

    # -- comments -------------------------------------------------------------------------------

    @staticmethod
    def is_doc_text(text):
        """True for a `///`, `///<` or `/** */` comment with some text in it."""
        text = text.strip()
        if not text.startswith(("///", "/**")):
            return False
        body = text.replace("///<", "").replace("///", "").replace("/**", "").replace("*/", "")
        return bool(body.strip(" \t\r\n*"))

    def has_doc_comment(self, cursor):
        """True when clang attached a doc comment to the declaration (or to
        another declaration of the same entity), or a `///<` follows it."""
        comment = cursor.raw_comment
        if comment and self.is_doc_text(comment):
            return True
        if self.is_made_by_our_macro(cursor):
            return self.macro_has_doc_comment(cursor)  # e.g. SWEET_ASYNC_DETAIL_ERROR_CODE_ENUM
        return self.has_trailing_comment(cursor)

    def is_made_by_our_macro(self, cursor):
        """A declaration a SWEET_ASYNC_ macro writes: clang attaches no comment to it."""
        if cursor.location.file is None:
            return False
        line = self.file_lines(cursor.location.file.name)[cursor.location.line - 1]
        return line.lstrip().startswith("SWEET_ASYNC_")

    def has_trailing_comment(self, cursor):
        """Clang attaches `///<` only to fields, enumerators and variables;
        the style also uses it for member type aliases, so read the source
        after the end of the declaration: `using x = y;  ///< ...`."""
        end = cursor.extent.end
        if end.file is None:
            return False
        rest = self.file_lines(end.file.name)[end.line - 1][end.column - 1:]
        rest = rest.lstrip().removeprefix(";").lstrip()
        return rest.startswith("///<") and self.is_doc_text(rest)

    def macro_has_doc_comment(self, cursor):
        """Macros have no attached comment in libclang: read the source, the
        line above (`///`) or the definition's own line (`///<`)."""
        lines = self.file_lines(cursor.location.file.name)
        line = cursor.location.line  # 1-based
        trailing = lines[line - 1].partition("///<")
        if trailing[1] and self.is_doc_text(trailing[1] + trailing[2]):
            return True
        return line >= 2 and self.is_doc_text(lines[line - 2])

    def file_lines(self, path):
        if path not in self._lines:
            with open(path, encoding="utf-8") as f:
                self._lines[path] = f.read().splitlines()
        return self._lines[path]

    # -- exemptions -----------------------------------------------------------------------------

    @staticmethod
    def is_defaulted_or_deleted(cursor):
        """`= default` or `= delete`; libclang 14 only reports the former, so
        read the declaration's tokens up to its body."""
        if cursor.kind in (K.CXX_METHOD, K.CONSTRUCTOR, K.DESTRUCTOR) and cursor.is_default_method():
            return True
        tokens = []
        for token in cursor.get_tokens():
            if token.spelling == "{":
                break
            tokens.append(token.spelling)
        return any(a == "=" and b in ("delete", "default") for a, b in zip(tokens, tokens[1:]))

    @staticmethod
    def is_formatter_specialisation(cursor):
        """`template <> struct fmt::formatter<X>` or a partial specialisation of it."""
        if cursor.spelling != "formatter" or cursor.kind not in RECORD_KINDS:
            return False
        # fmt declares its names in an inline versioned namespace (fmt::v9): skip it.
        parent = cursor.semantic_parent
        while parent is not None and parent.kind == K.NAMESPACE and parent.spelling != "fmt":
            parent = parent.semantic_parent
        return parent is not None and parent.kind == K.NAMESPACE and parent.spelling == "fmt"

    @staticmethod
    def is_include_guard(cursor, lines):
        line = cursor.location.line
        return line >= 2 and lines[line - 2].split() == ["#ifndef", cursor.spelling]

    # -- the walk -------------------------------------------------------------------------------

    def check(self, cursor, kind=None):
        """Records `cursor` as undocumented unless it has a doc comment. Each
        entity is checked once, at its first public declaration."""
        usr = cursor.get_usr()
        if usr:
            if usr in self.seen_usrs:
                return
            self.seen_usrs.add(usr)
        self.checked += 1
        if not self.has_doc_comment(cursor):
            self.report(cursor, kind or cursor.kind.name, cursor.spelling)

    def visit_scope(self, scope):
        """Walks a namespace (or the translation unit) and the records in it."""
        for cursor in scope.get_children():
            if cursor.kind in (K.NAMESPACE, K.LINKAGE_SPEC):
                if cursor.spelling not in PRIVATE_NAMESPACES:
                    self.visit_scope(cursor)
            elif cursor.kind == K.MACRO_DEFINITION:
                self.visit_macro(cursor)
            elif self.is_public_file(cursor):
                self.visit_declaration(cursor)

    def visit_macro(self, cursor):
        if not self.is_public_file(cursor) or not cursor.spelling.startswith("SWEET_ASYNC_"):
            return  # other libraries' configuration macros, e.g. ASIO_HAS_CO_AWAIT
        if cursor.spelling.startswith("SWEET_ASYNC_DETAIL_"):
            return  # the library's own machinery, like namespace detail
        lines = self.file_lines(cursor.location.file.name)
        if self.is_include_guard(cursor, lines):
            return
        self.checked += 1
        if not self.macro_has_doc_comment(cursor):
            self.report(cursor, "MACRO", cursor.spelling)

    def visit_declaration(self, cursor):
        kind = cursor.kind
        if kind in NOT_DECLARATIONS or not kind.is_declaration():
            return
        if cursor.access_specifier in (ci.AccessSpecifier.PRIVATE, ci.AccessSpecifier.PROTECTED):
            return
        if kind == K.FRIEND_DECL:
            # Hidden friend functions are part of the API; friend classes are not.
            for declared in cursor.get_children():
                if declared.kind in FUNCTION_KINDS:
                    self.visit_function(declared, "FRIEND_FUNCTION")
            return
        if kind in FUNCTION_KINDS:
            self.visit_function(cursor)
            return
        if kind in RECORD_KINDS and not cursor.is_definition():
            definition = cursor.get_definition()
            if definition is not None and definition != cursor:
                return  # a forward declaration: the definition is checked
        if kind == K.UNEXPOSED_DECL:
            # libclang 14 has no cursor kind for concepts and variable templates.
            tokens = [t.spelling for t in cursor.get_tokens()][:64]
            self.check(cursor, "CONCEPT" if "concept" in tokens else "VARIABLE_TEMPLATE")
        elif cursor.spelling:  # anonymous records and enums: their members are checked
            self.check(cursor)
        if kind in RECORD_KINDS and not self.is_formatter_specialisation(cursor):
            for member in cursor.get_children():
                self.visit_declaration(member)

    def visit_function(self, cursor, kind=None):
        parent = cursor.semantic_parent
        if parent is not None and parent.kind in RECORD_KINDS and parent != cursor.lexical_parent:
            return  # an out-of-line member definition: the in-class declaration is checked
        if cursor.kind == K.CONVERSION_FUNCTION or re.match(r"operator\b", cursor.spelling):
            return  # `operator==`, `operator()`, ... but not a function named `operator_count`
        if self.is_defaulted_or_deleted(cursor):
            return
        self.check(cursor, kind)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument("--libclang", help="path of libclang.so (default: the bindings' own)")
    args = parser.parse_args()
    if args.libclang:
        ci.Config.set_library_file(args.libclang)

    root = os.path.abspath(args.root)
    tu = ci.Index.create().parse(
        "doc_coverage.cpp",
        args=CLANG_ARGS + ["-I" + os.path.join(root, "include")],
        unsaved_files=[("doc_coverage.cpp", UMBRELLA)],
        options=(ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES
                 | ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD),
    )
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        for diagnostic in errors:
            print(diagnostic, file=sys.stderr)
        print("doc_coverage: the headers do not parse; nothing checked", file=sys.stderr)
        return 2

    checker = Checker(root)
    checker.visit_scope(tu.cursor)
    for (path, line, _), (kind, name) in sorted(checker.missing.items()):
        print(f"{path}:{line}: {kind} {name}")
    print(f"{len(checker.missing)} undocumented public declarations"
          f" (of {checker.checked} checked)", file=sys.stderr)
    return 1 if checker.missing else 0


if __name__ == "__main__":
    sys.exit(main())
