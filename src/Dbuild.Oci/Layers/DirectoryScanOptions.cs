namespace Dbuild.Oci.Layers;

/// <summary>How <see cref="DirectoryLayerScanner"/> turns a directory tree into layer entries.</summary>
public sealed record DirectoryScanOptions
{
    /// <summary>Where metadata comes from; <see cref="BclLayerFileSystem"/> when null.</summary>
    public ILayerFileSystem? FileSystem { get; init; }

    /// <summary>
    /// The tree is an overlayfs upper dir: character devices 0/0 become <c>.wh.</c> whiteouts, directories with an
    /// <c>overlay.opaque</c> xattr of <c>y</c> get a <c>.wh..wh..opq</c> marker, and overlay's own xattrs are dropped.
    /// </summary>
    public bool OverlayWhiteouts { get; init; }

    /// <summary>
    /// Decides whether a non-whiteout entry goes into the layer (e.g. to leave out files overlay copied up but that
    /// did not change). A directory is kept anyway when something below it is kept. Null keeps everything.
    /// </summary>
    public Func<string, LayerEntry, bool>? Include { get; init; }

    /// <summary>Prepended to every path (e.g. <c>app</c> to place the tree under /app); empty = the tree is the root.</summary>
    public string PathPrefix { get; init; } = "";

    /// <summary>
    /// Keep a directory whose own entry is not included when something below it is (a diff names the directories of
    /// what changed). False gives exactly the included entries, as a layer made from a list of entries has them.
    /// </summary>
    public bool KeepParentsOfIncluded { get; init; } = true;
}
