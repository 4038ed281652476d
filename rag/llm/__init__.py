"""Everything about answering with a language model, in one place.

- ``client``: builds the chat model the answer mode names (``openai``: a streaming ``ChatOpenAI``;
  ``local``: the in-process llama.cpp model), from the registry ``CHAT_MODELS``;
- ``answerer``: ``LLMAnswerer``, the chain's answerer that prompts the chat model with the packed passages
  and checks the citations it writes;
- ``local_runtime``: ``LlamaChatModel``, a LangChain chat model over llama-cpp-python, run in-process;
- ``local_model``: the bundled GGUF file (installed from packages, assembled and verified by
  ``govqa models prepare --llm``).
"""
