namespace Dbuild.Oci.Layers;

/// <summary>A layer entry would write outside the extraction root (or is otherwise refused); nothing is written for it.</summary>
public sealed class UnsafeLayerEntryException : Exception
{
    /// <summary>Creates the exception for an entry name (as stored in the tar) and the reason it was refused.</summary>
    public UnsafeLayerEntryException(string entryName, string reason)
        : base($"Layer entry '{entryName}' refused: {reason}.")
    {
        EntryName = entryName;
        Reason = reason;
    }

    /// <summary>The entry's name as stored in the tar.</summary>
    public string EntryName { get; }

    /// <summary>Why it was refused.</summary>
    public string Reason { get; }
}
