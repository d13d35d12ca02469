import ArgumentParser

/// "Did you mean …?" for a mistyped subcommand (`coffer kv gett` → `coffer kv get`).
enum CommandSuggestion {
    /// The message for `arguments` (without the program name) when a leading word is not a
    /// subcommand where one is expected; nil when the words name commands (or flags come first).
    static func message(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        var current: any ParsableCommand.Type = root
        var path = [name(of: root)]
        for word in arguments {
            if word.hasPrefix("-") || word == "help" { return nil }
            let subcommands: [any ParsableCommand.Type] = current.configuration.subcommands
            guard !subcommands.isEmpty else { return nil }
            var names: [String] = []
            var next: (any ParsableCommand.Type)?
            for subcommand in subcommands {
                let subcommandName = name(of: subcommand)
                names.append(subcommandName)
                if subcommandName == word { next = subcommand }
            }
            if let next {
                current = next
                path.append(word)
                continue
            }
            let typed = (path + [word]).joined(separator: " ")
            var text = "'\(typed)' is not a command."
            if let nearest = nearest(to: word, in: names) {
                text += " Did you mean '\((path + [nearest]).joined(separator: " "))'?"
            }
            return text + "\n'\(path.joined(separator: " "))' has: \(names.joined(separator: ", ")). See '\(path.joined(separator: " ")) --help'."
        }
        return nil
    }

    /// A command's name as typed.
    static func name(of command: any ParsableCommand.Type) -> String {
        command.configuration.commandName ?? command._commandName
    }

    /// The closest name within 2 edits (or that starts with `word`), if any.
    static func nearest(to word: String, in names: [String]) -> String? {
        let scored = names.map { ($0, distance(word.lowercased(), $0)) }.filter { $0.1 <= 2 || $0.0.hasPrefix(word.lowercased()) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var row = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = row
        }
        return previous[b.count]
    }
}
