// R looks for R_init_fastpredict; it forwards to the Rust registration,
// and referencing it keeps the linker from dropping the static library.
void R_init_fastpredict_extendr(void *dll);
void register_extendr_panic_hook(void);

void R_init_fastpredict(void *dll) {
    register_extendr_panic_hook();
    R_init_fastpredict_extendr(dll);
}
