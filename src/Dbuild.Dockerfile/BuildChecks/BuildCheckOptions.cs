namespace Dbuild.Dockerfile;

/// <summary>Inputs for <see cref="BuildChecker.Run"/> beyond the Dockerfile itself.</summary>
public sealed record BuildCheckOptions
{
    /// <summary>Build args, target and platforms.</summary>
    public BuildOptions Build { get; init; } = new();

    /// <summary>The context's .dockerignore, for CopyIgnoredFile; null when there is none.</summary>
    public DockerIgnore? Ignore { get; init; }

    /// <summary>
    /// The environment of a base image (by its expanded reference), or null when unknown. UndefinedVar only runs for
    /// stages whose base environment is known (scratch, or given here), as BuildKit only knows it after resolving.
    /// </summary>
    public Func<string, IReadOnlyDictionary<string, string>?>? ImageEnvironment { get; init; }

    /// <summary>The platform a base image was resolved to (os/arch[/variant]), or null; feeds InvalidBaseImagePlatform.</summary>
    public Func<string, string?>? ImagePlatform { get; init; }
}
