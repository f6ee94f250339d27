fn main() {
    println!("tend");
}
