import CofferCLI

/// The `coffer` executable: everything lives in CofferCLI.
@main
struct CofferMain {
    static func main() async {
        await CofferCommand.main()
    }
}
