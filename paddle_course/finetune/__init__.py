"""Fine-tune wrappers on PaddleHub's Fine-tune API, one module per task."""
