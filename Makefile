# The README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test generate check-generate vet bench build
