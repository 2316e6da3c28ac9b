import Testing
@testable import DevinBridge

@Suite("Configuration file parsing")
struct ConfigFileTests {
    /// The values of a parse, as `KEY=VALUE` strings, for readable comparisons.
    func values(_ text: String) -> [String] {
        ConfigFile.parse(text).values.map { "\($0)=\($1)" }
    }

    func value(_ line: String) -> String? {
        let parsed = ConfigFile.parse(line)
        #expect(parsed.errors.isEmpty, "errors for \(line.debugDescription): \(parsed.errors)")
        #expect(parsed.values.count == 1)
        return parsed.values.first?.1
    }

    @Test("comments with # and ;, blank and blank-looking lines are skipped")
    func commentsAndBlanks() {
        let text = """
            # a comment
            ; another comment
              # an indented comment
            \t
            A=1

            B=2
            """
        let parsed = ConfigFile.parse(text)
        #expect(parsed.errors.isEmpty)
        #expect(values(text) == ["A=1", "B=2"])
    }

    @Test("a # inside a value is part of the value, not a comment")
    func hashInValue() {
        #expect(value("URL=https://tickets.example/#/issue/{id}") == "https://tickets.example/#/issue/{id}")
        #expect(value("S=abc # not a comment") == "abc # not a comment")
    }

    @Test("spaces around = are formatting", arguments: [
        "KEY=value", "KEY = value", "  KEY\t=\tvalue", "KEY=   value",
    ])
    func spacesAroundEquals(_ line: String) {
        #expect(values(line) == ["KEY=value"])
    }

    @Test("export KEY= is read as KEY=")
    func export() {
        #expect(values("export WEBHOOK_SECRET=abc\nexport   ORG = org-1") == ["WEBHOOK_SECRET=abc", "ORG=org-1"])
    }

    @Test("a key named export is still a key")
    func keyNamedExport() {
        #expect(values("export=1") == ["export=1"])
    }

    @Test("the value runs to the end of the line, = and inner spaces included")
    func valueAsWritten() {
        #expect(value("K=a=b=c") == "a=b=c")
        #expect(value("K=one two  three") == "one two  three")
        #expect(value("K=") == "")
    }

    @Test("inner quotes are kept: GitHub's documented secret needs no quoting")
    func innerQuotesKept() {
        #expect(value("WEBHOOK_SECRET=It's a Secret to Everybody") == "It's a Secret to Everybody")
        #expect(value(#"K=say "hi" twice"#) == #"say "hi" twice"#)
        #expect(value(#"K="unbalanced"#) == #""unbalanced"#)
        #expect(value(#"K="mixed'"#) == #""mixed'"#)
        #expect(value(#"K=""#) == #"""#)
    }

    @Test("trailing spaces and tabs after an unquoted value are trimmed")
    func trailingBlanksTrimmed() {
        #expect(value("K=value   ") == "value")
        #expect(value("K=It's a Secret to Everybody \t ") == "It's a Secret to Everybody")
    }

    @Test("a value wholly in double quotes loses them; \\\" and \\\\ are unescaped")
    func doubleQuoted() {
        #expect(value(#"K="  spaced out  ""#) == "  spaced out  ")
        #expect(value(#"K="It's a Secret to Everybody""#) == "It's a Secret to Everybody")
        #expect(value(#"K="say \"hi\"""#) == #"say "hi""#)
        #expect(value(#"K="back\\slash""#) == #"back\slash"#)
        #expect(value(#"K="""#) == "")
        #expect(value(#"K="ends with \""#) == #"ends with \"#)
    }

    @Test("a value wholly in single quotes loses them and is otherwise literal")
    func singleQuoted() {
        #expect(value("K='  spaced  '") == "  spaced  ")
        #expect(value(#"K='a\"b\\c'"#) == #"a\"b\\c"#)
        #expect(value(#"K='say "hi"'"#) == #"say "hi""#)
    }

    @Test("a backslash before any other character inside double quotes is kept (systemd keeps it)")
    func otherBackslashesKept() {
        // Only \" and \\ are documented as escapes; a secret such as "abc\def" must not lose its backslash.
        #expect(value(#"K="abc\def""#) == #"abc\def"#)
        #expect(value(#"K="tab\tstays""#) == #"tab\tstays"#)
    }

    @Test("blanks after a closing quote do not keep the quotes")
    func blanksAfterClosingQuote() {
        #expect(value(#"K="quoted value"  "#) == "quoted value")
        #expect(value("K='quoted value'\t") == "quoted value")
    }

    @Test("CRLF line ends are read like LF")
    func crlf() {
        let text = "# comment\r\nA=1\r\nB = two words \r\n\r\nC=\"q\"\r\n"
        #expect(values(text) == ["A=1", "B=two words", "C=q"])
    }

    @Test("a lone CR before the LF of the last line is removed")
    func crOnLastLine() {
        // A CR at the very end with no LF after it is its own Character and is removed.
        #expect(values("A=1\r") == ["A=1"])
    }

    @Test("lines that are not KEY=VALUE are reported with their line number", arguments: [
        ("A=1\njust some words\nB=2", 2, "expected KEY=VALUE", ["A=1", "B=2"]),
        ("\n\n=value", 3, "not a KEY=VALUE line", []),
        ("# c\nMY-KEY=1", 2, "not a KEY=VALUE line", []),
        ("KEY WITH SPACE=1\nOK=2", 1, "is not a valid key", ["OK=2"]),
        ("A=1\nB=2\nCLÉ=3", 3, "not a KEY=VALUE line", ["A=1", "B=2"]),
    ])
    func badLines(_ text: String, _ line: Int, _ message: String, _ good: [String]) {
        let parsed = ConfigFile.parse(text)
        #expect(parsed.errors.map(\.0) == [line])
        #expect(parsed.errors.count == 1)
        #expect(parsed.errors.first?.1.hasSuffix(message) == true)
        #expect(values(text) == good)
    }

    @Test("an invalid key is quoted in its message only when it looks like a key (never a wrapped secret)")
    func badKeyQuoted() {
        #expect(ConfigFile.parse("MY KEY=1").errors.first?.1 == #""MY" is not a valid key"#)
        #expect(ConfigFile.parse("MY-KEY=1").errors.first?.1 == "not a KEY=VALUE line")
    }

    @Test("every bad line is reported, not only the first")
    func severalBadLines() {
        let parsed = ConfigFile.parse("nope\nA=1\n-=2\nalso nope")
        #expect(parsed.errors.map(\.0) == [1, 3, 4])
    }

    @Test("a repeated key appears twice, in file order, so the last one wins when merged")
    func repeatedKey() {
        #expect(values("A=1\nA=2") == ["A=1", "A=2"])
    }

    @Test("an invalid key's message does not repeat a secret that contains =")
    func badKeyDoesNotLeakValue() {
        // `openssl rand -base64` secrets end in =; a YAML-style line puts the secret before it.
        let parsed = ConfigFile.parse("WEBHOOK_SECRET: sekrit-WEBHOOK-value-456==")
        #expect(parsed.errors.count == 1)
        #expect(!parsed.errors.contains { $0.1.contains("sekrit") })
    }

    @Test("Parsed compares values and errors")
    func parsedEquality() {
        #expect(ConfigFile.parse("A=1\nB=2") == ConfigFile.parse("A = 1\n# c\nB=2"))
        #expect(ConfigFile.parse("A=1") != ConfigFile.parse("A=2"))
        #expect(ConfigFile.parse("x") != ConfigFile.parse("\nx"))
    }
}
