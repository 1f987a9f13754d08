// Package conf turns a parsed aku.conf into a validated Config: defaults,
// ranges and byte limits (docs/configuration.md, "Properties"), required
// properties, Altibase identifier rules for every name that ends up inside
// SQL, and the password overrides from the environment or a mounted secret
// file (docs/configuration.md, "Overrides from the environment"). Every error
// it returns names the file, line and column at fault and wraps ErrInvalid.
//
// conf never reads the environment itself: the caller passes the values in
// Overrides.
package conf
