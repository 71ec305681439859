namespace Dbuild.Cli;

/// <summary>What a command prints when it waits for another dbuild process on the state root (Dbuild.Solver's StoreUse lock).</summary>
internal static class StoreWaits
{
    /// <summary>For a prune: it waits for the builds, pulls, loads and imports running on the root.</summary>
    public static Action ForPrune(string root) => () => Console.Error.WriteLine($"waiting for the builds and pulls running on {root} to finish");

    /// <summary>For a pull, load or import: it waits for a prune running on the root.</summary>
    public static Action ForWrite(string root) => () => Console.Error.WriteLine($"waiting for a prune running on {root} to finish");
}
