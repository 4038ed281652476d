"""govqa stage: vectorstore — storing and searching chunks (FAISS dense + Chinese BM25), no pickle.

``CorpusIndex`` is what ingest writes through and rag reads from; ``FaissVectorStore`` is the same
storage as a LangChain ``VectorStore``. Import from the submodules: importing this package loads nothing.
"""
