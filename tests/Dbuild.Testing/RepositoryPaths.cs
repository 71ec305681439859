namespace Dbuild.Testing;

/// <summary>Locates the checkout and ../shared from a test's output directory.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root (the folder holding Build.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The shared folder beside the checkout (parser cases, Dockerfile corpus).</summary>
    public static string Shared => Environment.GetEnvironmentVariable("DBUILD_SHARED") ?? Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>testdata/ at the repository root.</summary>
    public static string TestData => Path.Combine(Root, "testdata");

    private static string FindRoot()
    {
        string? stamped = System.Reflection.Assembly.GetEntryAssembly()?
            .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "DbuildRepositoryRoot")?.Value;
        if (stamped is not null && File.Exists(Path.Combine(stamped, "Build.sln"))) { return stamped; }
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Build.sln"))) { return dir.FullName; }
        }
        throw new DirectoryNotFoundException($"No Build.sln above {AppContext.BaseDirectory}.");
    }
}
