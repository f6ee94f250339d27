//! Tend application library: the actix-web app factory and the command line, shared by `main` and the black-box tests.
