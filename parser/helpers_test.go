package parser

import (
	"errors"
	"fmt"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func asError(err error, target **Error) bool { return errors.As(err, target) }
