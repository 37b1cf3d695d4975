//! semtel
