"""Model seams: embedders, tokenizer files, and building models from packages offline."""
