"""langchain-tests' own ``VectorStoreIntegrationTests`` against FaissVectorStore.

Skipped unless ``langchain-tests`` (dev extra, ==1.1.9) is installed; its async tests need pytest-asyncio,
which it brings along.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("langchain_tests")
pytest.importorskip("pytest_asyncio")

from langchain_tests.integration_tests.vectorstores import VectorStoreIntegrationTests

from vectorstore.faiss_store import FaissVectorStore

# its async tests carry no marker (langchain's repos run pytest-asyncio in auto mode): mark the module,
# and silence the note this puts on the sync tests
pytestmark = [
    pytest.mark.asyncio(loop_scope="function"),
    pytest.mark.filterwarnings("ignore:The test <Function .* is marked with '@pytest.mark.asyncio'"),
]


class TestFaissVectorStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Iterator[FaissVectorStore]:  # type: ignore[override]
        store = FaissVectorStore(self.get_embeddings())
        try:
            yield store
        finally:
            store.close()
