// Package atomicfile replaces a file so that readers, and the file after a
// crash, see either the old content or the complete new content, never a
// half-written mix.
//
// The new content goes to a temporary file in the target's directory (a
// rename is atomic only within one file system), which is synced before it is
// renamed over the target; the directory is then synced so that the rename
// itself survives a power loss.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// bufferSize is large enough that a writer emitting small fields makes few
// system calls.
const bufferSize = 64 << 10

// defaultMode is the permission of a new file; an existing file keeps its
// own, so that replacing it does not silently change who may read it.
const defaultMode os.FileMode = 0o644

// Write replaces the file at path with what write writes to w, which is
// buffered. If write or any file operation fails, the temporary file is
// removed, the file at path is left as it was, and the error is returned.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := defaultMode
	if fi, statErr := os.Stat(path); statErr == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("atomicfile: %s is not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}

	// The leading dot keeps the temporary file out of casual listings and
	// globs matching the target's name.
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	tmp := f.Name()
	closed, renamed := false, false
	defer func() {
		if err == nil || renamed {
			return
		}
		if !closed {
			_ = f.Close()
		}
		_ = os.Remove(tmp)
	}()

	bw := bufio.NewWriterSize(f, bufferSize)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", tmp, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	// From here on the new content is in place; a failed directory sync only
	// means the rename may not yet be durable, so it is reported, but there is
	// no temporary file left to remove.
	renamed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: sync directory of %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot sync a directory; the rename is then as
	// durable as that file system makes it, which is not an error of ours.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}
