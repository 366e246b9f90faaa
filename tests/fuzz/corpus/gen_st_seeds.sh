#!/bin/sh
# Writes the seed corpora of fuzz_safetensors and fuzz_st_index (small valid
# inputs) into tests/fuzz/corpus/{safetensors,st_index}/. Run from the
# repository root: sh tests/fuzz/corpus/gen_st_seeds.sh
set -e
st=tests/fuzz/corpus/safetensors
ix=tests/fuzz/corpus/st_index
mkdir -p "$st" "$ix"

# u64 little-endian
le64() {
	n=$1
	i=0
	while [ $i -lt 8 ]; do
		printf "\\$(printf %03o $((n % 256)))"
		n=$((n / 256))
		i=$((i + 1))
	done
}

# st FILE HEADER DATA_BYTES: header padded with spaces to a multiple of 8,
# then DATA_BYTES bytes counting up from 1
st() {
	len=${#2}
	pad=$(((8 - len % 8) % 8))
	{
		le64 $((len + pad))
		printf '%s' "$2"
		printf '%*s' "$pad" ''
		i=0
		while [ "$i" -lt "$3" ]; do
			printf "\\$(printf %03o $((i % 255 + 1)))"
			i=$((i + 1))
		done
	} >"$st/$1"
}

st empty '{}' 0
st meta_only '{"__metadata__":{"format":"pt"}}' 0
st one_f32 '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}' 16
st mixed '{"__metadata__":{"format":"pt","k":"v"},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"c":{"dtype":"F4","shape":[2,3],"data_offsets":[22,25]},"d":{"dtype":"I64","shape":[],"data_offsets":[25,33]},"e":{"dtype":"F16","shape":[0,5],"data_offsets":[33,33]},"f":{"dtype":"BOOL","shape":[3],"data_offsets":[33,36]}}' 36
st spaces '  {"x":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}' 1
st escapes '{"a\"b\\c\u00e9\n":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]},"y":{"dtype":"C64","shape":[1],"data_offsets":[4,12]}}' 12

printf '%s' '{"metadata":{"total_size":1056},"weight_map":{"model.embed_tokens.weight":"model-00001-of-00002.safetensors","model.norm.weight":"model-00001-of-00002.safetensors","lm_head.weight":"model-00002-of-00002.safetensors"}}' >"$ix/two_shards.json"
printf '%s' '{"weight_map":{"a":"model.safetensors"}}' >"$ix/minimal.json"
printf '%s' '{"metadata":{"total_size":"12","format":"pt"},"weight_map":{"x\u00e9":"s1.safetensors","y":"s2.safetensors","z":"s1.safetensors"},"other":[1,2,{"k":null}]}' >"$ix/extras.json"
