namespace Dbuild.Dockerfile;

/// <summary>One of BuildKit's build-check rules (same names as <c>docker build --check</c>).</summary>
/// <param name="Name">The rule name, e.g. <c>JSONArgsRecommended</c>.</param>
/// <param name="Description">What the rule is about.</param>
/// <param name="Url">BuildKit's documentation page for the rule.</param>
/// <param name="Experimental">Experimental rules run only when <c># check=experimental=…</c> enables them.</param>
public sealed record BuildCheckRule(string Name, string Description, string Url, bool Experimental = false)
{
    /// <summary>StageNameCasing.</summary>
    public static BuildCheckRule StageNameCasing { get; } = New("StageNameCasing", "Stage names should be lowercase", "stage-name-casing");
    /// <summary>FromAsCasing.</summary>
    public static BuildCheckRule FromAsCasing { get; } = New("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword", "from-as-casing");
    /// <summary>NoEmptyContinuation.</summary>
    public static BuildCheckRule NoEmptyContinuation { get; } = New("NoEmptyContinuation", "Empty continuation lines will become errors in a future release", "no-empty-continuation");
    /// <summary>ConsistentInstructionCasing.</summary>
    public static BuildCheckRule ConsistentInstructionCasing { get; } = New("ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing (either upper or lower)", "consistent-instruction-casing");
    /// <summary>DuplicateStageName.</summary>
    public static BuildCheckRule DuplicateStageName { get; } = New("DuplicateStageName", "Stage names should be unique", "duplicate-stage-name");
    /// <summary>ReservedStageName.</summary>
    public static BuildCheckRule ReservedStageName { get; } = New("ReservedStageName", "Reserved words should not be used as stage names", "reserved-stage-name");
    /// <summary>JSONArgsRecommended.</summary>
    public static BuildCheckRule JsonArgsRecommended { get; } = New("JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals", "json-args-recommended");
    /// <summary>MaintainerDeprecated.</summary>
    public static BuildCheckRule MaintainerDeprecated { get; } = New("MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author", "maintainer-deprecated");
    /// <summary>UndefinedArgInFrom.</summary>
    public static BuildCheckRule UndefinedArgInFrom { get; } = New("UndefinedArgInFrom", "FROM command must use declared ARGs", "undefined-arg-in-from");
    /// <summary>WorkdirRelativePath.</summary>
    public static BuildCheckRule WorkdirRelativePath { get; } = New("WorkdirRelativePath", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes", "workdir-relative-path");
    /// <summary>UndefinedVar.</summary>
    public static BuildCheckRule UndefinedVar { get; } = New("UndefinedVar", "Variables should be defined before their use", "undefined-var");
    /// <summary>MultipleInstructionsDisallowed.</summary>
    public static BuildCheckRule MultipleInstructionsDisallowed { get; } = New("MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage", "multiple-instructions-disallowed");
    /// <summary>LegacyKeyValueFormat.</summary>
    public static BuildCheckRule LegacyKeyValueFormat { get; } = New("LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used", "legacy-key-value-format");
    /// <summary>InvalidBaseImagePlatform.</summary>
    public static BuildCheckRule InvalidBaseImagePlatform { get; } = New("InvalidBaseImagePlatform", "Base image platform does not match expected target platform", "invalid-base-image-platform");
    /// <summary>RedundantTargetPlatform.</summary>
    public static BuildCheckRule RedundantTargetPlatform { get; } = New("RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", "redundant-target-platform");
    /// <summary>SecretsUsedInArgOrEnv.</summary>
    public static BuildCheckRule SecretsUsedInArgOrEnv { get; } = New("SecretsUsedInArgOrEnv", "Potentially sensitive data should not be used in the ARG or ENV commands", "secrets-used-in-arg-or-env");
    /// <summary>InvalidDefaultArgInFrom.</summary>
    public static BuildCheckRule InvalidDefaultArgInFrom { get; } = New("InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name", "invalid-default-arg-in-from");
    /// <summary>FromPlatformFlagConstDisallowed.</summary>
    public static BuildCheckRule FromPlatformFlagConstDisallowed { get; } = New("FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value", "from-platform-flag-const-disallowed");
    /// <summary>CopyIgnoredFile.</summary>
    public static BuildCheckRule CopyIgnoredFile { get; } = New("CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore", "copy-ignored-file");
    /// <summary>InvalidDefinitionDescription (experimental).</summary>
    public static BuildCheckRule InvalidDefinitionDescription { get; } = New("InvalidDefinitionDescription", "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.", "invalid-definition-description", experimental: true);
    /// <summary>ExposeProtoCasing.</summary>
    public static BuildCheckRule ExposeProtoCasing { get; } = New("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase", "expose-proto-casing");
    /// <summary>ExposeInvalidFormat.</summary>
    public static BuildCheckRule ExposeInvalidFormat { get; } = New("ExposeInvalidFormat", "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release", "expose-invalid-format");

    /// <summary>All 22 rules.</summary>
    public static IReadOnlyList<BuildCheckRule> All { get; } =
    [
        StageNameCasing, FromAsCasing, NoEmptyContinuation, ConsistentInstructionCasing, DuplicateStageName, ReservedStageName,
        JsonArgsRecommended, MaintainerDeprecated, UndefinedArgInFrom, WorkdirRelativePath, UndefinedVar, MultipleInstructionsDisallowed,
        LegacyKeyValueFormat, InvalidBaseImagePlatform, RedundantTargetPlatform, SecretsUsedInArgOrEnv, InvalidDefaultArgInFrom,
        FromPlatformFlagConstDisallowed, CopyIgnoredFile, InvalidDefinitionDescription, ExposeProtoCasing, ExposeInvalidFormat,
    ];

    private static BuildCheckRule New(string name, string description, string slug, bool experimental = false) =>
        new(name, description, "https://docs.docker.com/go/dockerfile/rule/" + slug + "/", experimental);
}
