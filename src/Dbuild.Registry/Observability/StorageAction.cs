namespace Dbuild.Registry.Observability;

/// <summary>The storage driver operations <see cref="InstrumentedStorageDriver"/> measures (the <c>action</c> label).</summary>
internal enum StorageAction
{
    Stat,
    ReadAll,
    OpenRead,
    Write,
    Stage,
    CommitStaged,
    MoveIfAbsent,
    List,
    Walk,
    Exists,
    Delete,
    DeleteIfMatch,
    GetDownloadUrl,
}
