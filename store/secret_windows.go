package store

// checkModes: on Windows the permission bits Go reports do not say who may
// read a file (ACLs do), so modes are not checked.
const checkModes = false
