// The dump child's only use of the runtime's g layout: see g_linux.go.

#include "textflag.h"

// func gWord(off uintptr) uintptr
TEXT ·gWord(SB),NOSPLIT,$0-16
	MOVD	off+0(FP), R1
	MOVD	(g)(R1), R2
	MOVD	R2, ret+8(FP)
	RET

// func clearPreempt(guard uintptr)
TEXT ·clearPreempt(SB),NOSPLIT,$0-8
	MOVD	guard+0(FP), R1
	CBZ	R1, done
	MOVD	0(g), R2	// g.stack.lo
	ADD	R1, R2
	MOVD	R2, 16(g)	// g.stackguard0
	MOVB	ZR, 177(g)	// g.preempt
	MOVB	ZR, 178(g)	// g.preemptStop
	MOVB	ZR, 179(g)	// g.preemptShrink
done:
	RET

// func peek(addr uintptr) uintptr
TEXT ·peek(SB),NOSPLIT,$0-16
	MOVD	addr+0(FP), R0
	MOVD	(R0), R0
	MOVD	R0, ret+8(FP)
	RET

// func poke32(addr uintptr, v uint32)
TEXT ·poke32(SB),NOSPLIT,$0-12
	MOVD	addr+0(FP), R0
	MOVWU	v+8(FP), R1
	MOVW	R1, (R0)
	RET

// func getg() uintptr
TEXT ·getg(SB),NOSPLIT,$0-8
	MOVD	g, R0
	MOVD	R0, ret+0(FP)
	RET
