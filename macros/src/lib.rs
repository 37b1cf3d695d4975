//! semtel macros
