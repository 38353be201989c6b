// SPDX-License-Identifier: Apache-2.0
#include "ascii.h"

#define D(c) [c] = true
const bool ascii_tchar[256] = {
	D('!'), D('#'), D('$'), D('%'), D('&'), D('\''), D('*'), D('+'), D('-'), D('.'), D('^'),
	D('_'), D('`'), D('|'), D('~'), D('0'), D('1'),	 D('2'), D('3'), D('4'), D('5'), D('6'),
	D('7'), D('8'), D('9'), D('A'), D('B'), D('C'),	 D('D'), D('E'), D('F'), D('G'), D('H'),
	D('I'), D('J'), D('K'), D('L'), D('M'), D('N'),	 D('O'), D('P'), D('Q'), D('R'), D('S'),
	D('T'), D('U'), D('V'), D('W'), D('X'), D('Y'),	 D('Z'), D('a'), D('b'), D('c'), D('d'),
	D('e'), D('f'), D('g'), D('h'), D('i'), D('j'),	 D('k'), D('l'), D('m'), D('n'), D('o'),
	D('p'), D('q'), D('r'), D('s'), D('t'), D('u'),	 D('v'), D('w'), D('x'), D('y'), D('z'),
};

const bool ascii_field_char[256] = {['\t'] = true, [0x20 ... 0x7e] = true, [0x80 ... 0xff] = true};
