//! Uploads spooled to an unnamed temporary file as they arrive, so a large file is never
//! held in memory; the size cap of the route (see `limits`) applies while reading.

use std::io::{Seek, SeekFrom};

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, AppResult};
use crate::web::limits::{is_too_large, too_large};

/// Writes the chunks to a temporary file (deleted when dropped) and rewinds it.
pub async fn spool<S, E>(mut chunks: S, cap: usize) -> AppResult<(std::fs::File, u64)>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    let file = tempfile::tempfile().map_err(AppError::internal)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut size: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            if is_too_large(&e) {
                too_large(cap)
            } else {
                AppError::BadRequest(format!("the upload could not be read: {e}"))
            }
        })?;
        size += chunk.len() as u64;
        if size > cap as u64 {
            return Err(too_large(cap));
        }
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    file.flush().await.map_err(AppError::internal)?;
    let mut file = file.into_std().await;
    file.seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
    Ok((file, size))
}
