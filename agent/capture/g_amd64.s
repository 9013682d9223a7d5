// The dump child's only use of the runtime's g layout: see g_linux.go.

#include "textflag.h"

// func gWord(off uintptr) uintptr
TEXT ·gWord(SB),NOSPLIT,$0-16
	MOVQ	(TLS), AX
	MOVQ	off+0(FP), BX
	MOVQ	(AX)(BX*1), CX
	MOVQ	CX, ret+8(FP)
	RET

// func clearPreempt(guard uintptr)
TEXT ·clearPreempt(SB),NOSPLIT,$0-8
	MOVQ	(TLS), AX
	MOVQ	guard+0(FP), BX
	TESTQ	BX, BX
	JEQ	done
	MOVQ	0(AX), CX	// g.stack.lo
	ADDQ	BX, CX
	MOVQ	CX, 16(AX)	// g.stackguard0
	MOVB	$0, 177(AX)	// g.preempt
	MOVB	$0, 178(AX)	// g.preemptStop
	MOVB	$0, 179(AX)	// g.preemptShrink
done:
	RET

// func peek(addr uintptr) uintptr
TEXT ·peek(SB),NOSPLIT,$0-16
	MOVQ	addr+0(FP), AX
	MOVQ	(AX), AX
	MOVQ	AX, ret+8(FP)
	RET

// func poke32(addr uintptr, v uint32)
TEXT ·poke32(SB),NOSPLIT,$0-12
	MOVQ	addr+0(FP), AX
	MOVL	v+8(FP), BX
	MOVL	BX, (AX)
	RET

// func getg() uintptr
TEXT ·getg(SB),NOSPLIT,$0-8
	MOVQ	(TLS), AX
	MOVQ	AX, ret+0(FP)
	RET
