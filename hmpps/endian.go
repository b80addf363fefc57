package hmpps

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// nativeLittleEndian says whether float32s are stored little-endian in
// memory, as the engine file stores them (amd64 and arm64 do): the vectors
// of a file are then read into the index's memory and written from it as
// they are, a gigabyte and a half for a million products, without a copy.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// littleEndianBytes returns the bytes of v, which are its little-endian
// encoding on a little-endian machine; on another, a little-endian copy.
func littleEndianBytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	if nativeLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// readFloats fills v with little-endian float32s read by read: into v's
// own memory on a little-endian machine, through a copy on another.
func readFloats(v []float32, read func([]byte) error) error {
	if nativeLittleEndian || len(v) == 0 {
		return read(littleEndianBytes(v))
	}
	b := make([]byte, 4*len(v))
	if err := read(b); err != nil {
		return err
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}
