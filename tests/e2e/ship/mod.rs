//! Shipping tailor (issue K): the binary alone serves and builds from an empty directory, and
//! tailor's own image is built by tailor (packaging/image/build.sh), reproducibly and signed.

mod image;
mod lone;
