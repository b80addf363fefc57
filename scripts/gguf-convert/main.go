//go:build ignore

// Command gguf-convert turns a Hugging Face model folder (config.json,
// model.safetensors, tokenizer files, and for a sentence-transformers model
// modules.json and its pooling folder) into one GGUF file, with the
// converter of the Ollama module it is built in: the one `ollama create`
// runs on a safetensors folder, called directly because the server's create
// path does not take every architecture its converter knows (BERT among
// them).
//
//	gguf-convert MODEL_DIR OUT.gguf
//
// scripts/ollama.sh copies this file into a writable copy of the Ollama
// module at the version go.mod pins and builds it there, with that module's
// go.mod and go.sum, so that the converter's dependencies never enter the
// library's go.mod. The build constraint keeps it out of this module's
// builds, vet and go mod tidy.
package main

import (
	"fmt"
	"os"

	"github.com/ollama/ollama/convert"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gguf-convert MODEL_DIR OUT.gguf")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gguf-convert:", err)
		os.Exit(1)
	}
}

// run writes the GGUF next to out and renames it into place, so that an
// interrupted conversion never leaves a file that looks finished.
func run(dir, out string) error {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := convert.ConvertModel(os.DirFS(dir), f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("convert %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}
