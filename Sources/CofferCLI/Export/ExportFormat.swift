import ArgumentParser
import CofferCore

/// The formats `coffer export` writes, each read back exactly by the readers it names, or refused.
///
/// No single text is read the same way by a POSIX shell, python-dotenv and `docker run --env-file`
/// (docker keeps quotes as part of the value; python-dotenv cannot parse the shell's `'\''`), so each
/// reader has its format, and a value a format cannot carry is refused naming the key, never written
/// in a form some reader would misread or execute.
public enum ExportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `KEY='value'` read identically by `sh`/`bash` `source` (also with `set -a`), python-dotenv and
    /// docker compose's `env_file`.
    case dotenv
    /// POSIX shell assignments (`export KEY='it'\''s'`): carries every value except NUL.
    case shell
    /// `docker run --env-file`: `KEY=value` verbatim; values with line breaks or NUL are refused.
    case docker
    /// JSON object of strings.
    case json
    /// YAML mapping of double-quoted strings, read back as strings by YAML 1.1 and 1.2 readers.
    case yaml

    /// Renders `pairs` (key, value) in this format, or throws ``ExportRefusal`` naming the first key
    /// (or value's key) the format cannot carry.
    public func render(_ pairs: [(String, String)]) throws(ExportRefusal) -> String {
        switch self {
        case .json:
            return Output.pretty(.object(Dictionary(pairs.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { $1 }))) + "\n"
        case .yaml:
            return pairs.map { "\(YAMLEncoding.quoted($0.0)): \(YAMLEncoding.quoted($0.1))\n" }.joined()
        case .dotenv, .shell, .docker:
            var lines = ""
            for (key, value) in pairs {
                guard SecretFetcher.isValidName(key) else { throw ExportRefusal(key: key, reason: .invalidName, format: self) }
                lines += try line(key: key, value: value) + "\n"
            }
            return lines
        }
    }

    private func line(key: String, value: String) throws(ExportRefusal) -> String {
        switch self {
        case .dotenv: return "\(key)=\(try DotenvEncoding.quoted(value, key: key))"
        case .shell: return "export \(key)=\(try ShellEncoding.quoted(value, key: key))"
        case .docker: return "\(key)=\(try DockerEnvEncoding.verbatim(value, key: key))"
        case .json, .yaml: return ""
        }
    }
}

/// A value (or key) an export format cannot carry exactly. The message names the key, never the value.
public struct ExportRefusal: Error, CustomStringConvertible, Equatable, Sendable {
    /// Why a value cannot be written.
    public enum Reason: Sendable, Equatable {
        /// The key is not a portable environment variable name.
        case invalidName
        /// The value holds a NUL character, which no environment variable can hold.
        case nul
        /// The value holds a carriage return, which some readers translate to a newline.
        case carriageReturn
        /// The value holds a line break, which docker's env-file reader cannot carry.
        case lineBreak
        /// The value holds `${`, which python-dotenv expands even inside single quotes.
        case interpolation
        /// The value needs single quotes for one reader and double quotes for another (it holds
        /// `'` or `\` together with `$` or a backtick).
        case noCommonQuoting
    }

    /// The key whose value (or name) is refused.
    public let key: String
    /// Why.
    public let reason: Reason
    /// The format asked for.
    public let format: ExportFormat

    /// One line saying which key, why, and what to use instead.
    public var description: String {
        let name = SecretFetcher.isValidName(key) ? key : "(a key that is not a valid variable name)"
        switch reason {
        case .invalidName:
            return
                "cannot export as \(format.rawValue): \(name): environment variable names are letters, digits and _ (not first); use --format json or yaml"
        case .nul:
            return
                "cannot export \(name) as \(format.rawValue): its value contains a NUL character, which no environment variable can hold; use --format json"
        case .carriageReturn:
            return
                "cannot export \(name) as \(format.rawValue): its value contains a carriage return, which dotenv readers turn into a newline; use --format shell or json"
        case .lineBreak:
            return
                "cannot export \(name) as docker: its value contains a line break, which docker --env-file cannot carry; use --format dotenv, shell or json"
        case .interpolation:
            return
                "cannot export \(name) as dotenv: its value contains ${, which python-dotenv expands even inside quotes; use --format shell (sh/bash), json or yaml, or coffer run"
        case .noCommonQuoting:
            return
                "cannot export \(name) as dotenv: its value mixes ' or \\ with $ or `, which sh and python-dotenv cannot both read back exactly from one file; use --format shell (sh/bash), json or yaml, or coffer run"
        }
    }
}
