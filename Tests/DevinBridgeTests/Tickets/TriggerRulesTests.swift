import Testing
@testable import DevinBridge

@Suite("Trigger labels and rules")
struct TriggerRulesTests {
    let rules = TriggerRules([
        TriggerLabel("devin-autofix", playbookID: "playbook-autofix"),
        TriggerLabel("devin-feature", playbookID: "playbook-feature"),
        TriggerLabel("devin"),
    ])

    @Test("a ticket label matches whatever its case", arguments: ["devin-autofix", "Devin-AutoFix", "DEVIN-AUTOFIX"])
    func caseInsensitive(_ label: String) {
        #expect(rules.match(["bug", label]) == TriggerLabel("devin-autofix", playbookID: "playbook-autofix"))
    }

    @Test("a configured label in upper case matches a lower-case ticket label")
    func configuredUpperCase() {
        #expect(TriggerRules([TriggerLabel("Devin-Fix")]).match(["devin-fix"])?.name == "Devin-Fix")
    }

    @Test("when a ticket carries several trigger labels, configuration order wins over ticket order")
    func configurationOrderWins() {
        #expect(rules.match(["devin", "devin-feature", "devin-autofix"])?.name == "devin-autofix")
        #expect(rules.match(["devin", "devin-feature"])?.playbookID == "playbook-feature")
        #expect(rules.match(["devin"]) == TriggerLabel("devin"))
    }

    @Test("a ticket without a trigger label does not match", arguments: [
        [], ["bug"], ["devin-autofixx"], ["devin autofix"], ["autofix"], ["devin-"], [""],
    ] as [[String]])
    func noMatch(_ labels: [String]) {
        #expect(rules.match(labels) == nil)
    }

    @Test("blanks around a ticket label are ignored", arguments: [" devin-autofix", "devin-autofix\t", "  devin-autofix  "])
    func whitespace(_ label: String) {
        #expect(rules.match([label])?.name == "devin-autofix")
    }

    @Test("no configured labels means nothing matches")
    func noRules() {
        #expect(TriggerRules([]).match(["devin-autofix"]) == nil)
    }

    // MARK: - TRIGGER_LABELS

    @Test("TRIGGER_LABELS items are label[=playbook], comma separated, blanks ignored", arguments: [
        ("a=playbook-1, b", [TriggerLabel("a", playbookID: "playbook-1"), TriggerLabel("b")]),
        ("devin-autofix,devin-feature", [TriggerLabel("devin-autofix"), TriggerLabel("devin-feature")]),
        (" a = p1 ,\tb=p2 ", [TriggerLabel("a", playbookID: "p1"), TriggerLabel("b", playbookID: "p2")]),
        ("a,,b", [TriggerLabel("a"), TriggerLabel("b")]),
        ("a, ,b,", [TriggerLabel("a"), TriggerLabel("b")]),
        ("a=p=q", [TriggerLabel("a", playbookID: "p=q")]),
    ])
    func parseList(_ text: String, _ labels: [TriggerLabel]) throws {
        #expect(try TriggerLabel.parseList(text) == labels)
    }

    @Test("bad TRIGGER_LABELS items are refused with a message naming them", arguments: [
        ("a,b,A", #"TRIGGER_LABELS names "A" twice"#),
        ("a, a=playbook-2", #"TRIGGER_LABELS names "a" twice"#),
        ("=x", #"TRIGGER_LABELS has an item with no label: "=x""#),
        ("a, =x", #"TRIGGER_LABELS has an item with no label: " =x""#),
        ("a=", #"TRIGGER_LABELS item "a=" has '=' but no playbook id"#),
        ("b, a = ", #"TRIGGER_LABELS item " a = " has '=' but no playbook id"#),
        ("", "TRIGGER_LABELS names no label"),
        (", ,", "TRIGGER_LABELS names no label"),
    ])
    func parseListRefuses(_ text: String, _ message: String) {
        #expect(throws: ConfigurationProblem(message)) {
            try TriggerLabel.parseList(text)
        }
    }
}
