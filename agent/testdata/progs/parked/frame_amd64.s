#include "textflag.h"

// func frameBounds() (sp, cfa uintptr)
//
// Returns the caller's frame as the runtime's unwinder and the heap dump see
// it: sp, its lowest address (where its outgoing arguments start: the first
// argument slot of this frameless ABI0 function), and the CFA, the address
// just above its return address. Go keeps frame pointers on amd64: the
// caller's BP points at its saved BP, which sits right below the return
// address, so CFA = BP + 16.
TEXT ·frameBounds(SB), NOSPLIT, $0-16
	LEAQ sp+0(FP), AX
	MOVQ AX, sp+0(FP)
	LEAQ 16(BP), AX
	MOVQ AX, cfa+8(FP)
	RET
