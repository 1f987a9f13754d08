package main

import (
	"fmt"
	"io"
	"runtime"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func printVersion(w io.Writer) {
	odbc := "no (built without cgo or with -tags noodbc)"
	if odbcCompiled {
		odbc = "yes (unixODBC, driver name \"odbc\")"
	}
	fmt.Fprintf(w, "aku %s\ngo: %s %s/%s\nodbc: %s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, odbc)
}
