fn main() {
    std::process::exit(latchkey::cli::main());
}
